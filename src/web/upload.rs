//! Reading multipart uploads with a size cap per file.

use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;

use crate::error::AppError;

pub struct UploadedFile {
    pub file_name: String,
    /// None when the file was larger than the limit (its bytes were discarded).
    pub bytes: Option<Vec<u8>>,
}

#[derive(Default)]
pub struct Upload {
    pub fields: Vec<(String, String)>,
    pub files: Vec<UploadedFile>,
}

impl Upload {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn broken(error: MultipartError) -> AppError {
    AppError::BadRequest {
        status: error.status(),
        detail: format!("The upload could not be read: {}", error.body_text()),
    }
}

/// Reads every part: files (parts with a file name) up to `max_file_bytes`
/// each, other parts as text fields.
pub async fn read_upload(
    mut multipart: Multipart,
    max_file_bytes: usize,
) -> Result<Upload, AppError> {
    let mut upload = Upload::default();
    while let Some(mut field) = multipart.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or_default().to_owned();
        match field.file_name().map(str::to_owned) {
            Some(file_name) if file_name.contains('\0') => {
                return Err(AppError::field(&name, crate::web::extract::NUL_MESSAGE));
            }
            Some(file_name) => {
                let mut bytes = Some(Vec::new());
                while let Some(chunk) = field.chunk().await.map_err(broken)? {
                    if let Some(buffer) = bytes.as_mut() {
                        if buffer.len() + chunk.len() > max_file_bytes {
                            bytes = None;
                        } else {
                            buffer.extend_from_slice(&chunk);
                        }
                    }
                }
                if file_name.is_empty() && bytes.as_ref().is_some_and(Vec::is_empty) {
                    continue; // a file input left empty
                }
                upload.files.push(UploadedFile { file_name, bytes });
            }
            None => {
                let text = field.text().await.map_err(broken)?;
                if text.contains('\0') || name.contains('\0') {
                    // PostgreSQL cannot store it; see web::extract.
                    return Err(AppError::field(
                        &name.replace('\0', ""),
                        crate::web::extract::NUL_MESSAGE,
                    ));
                }
                upload.fields.push((name, text));
            }
        }
    }
    Ok(upload)
}
