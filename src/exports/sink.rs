//! Where an export's rows go: CSV, sent on in chunks as it is written, or an
//! XLSX workbook whose sheets are kept in temporary files (rust_xlsxwriter's
//! constant-memory mode) and sent once it is finished. Either way memory
//! does not grow with the number of rows.

use std::io::{Read, Seek};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rust_xlsxwriter::{Format, Workbook, XlsxError};
use tokio::sync::mpsc;

use super::model::Cell;
use crate::error::AppError;

/// A chunk of the file, or why it ends short.
pub type Chunk = Result<Vec<u8>, std::io::Error>;

/// CSV is sent on once this much is written.
const CSV_CHUNK: usize = 64 * 1024;
/// Bytes read from the finished XLSX per chunk.
const FILE_CHUNK: usize = 256 * 1024;

/// Rows and bytes so far, for a progress line.
#[derive(Debug, Default)]
pub struct Progress {
    pub rows: AtomicU64,
    pub bytes: AtomicU64,
}

impl Progress {
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// The receiving end has gone (the browser stopped the download).
fn gone() -> AppError {
    AppError::Internal(anyhow::anyhow!("the download was closed before it ended"))
}

fn xlsx_error(e: XlsxError) -> AppError {
    AppError::Internal(anyhow::Error::new(e).context("writing the XLSX"))
}

pub struct CsvSink {
    writer: csv::Writer<Vec<u8>>,
    tx: mpsc::Sender<Chunk>,
    progress: Arc<Progress>,
}

impl CsvSink {
    pub fn new(tx: mpsc::Sender<Chunk>, progress: Arc<Progress>) -> Self {
        Self {
            writer: Self::writer(),
            tx,
            progress,
        }
    }

    fn writer() -> csv::Writer<Vec<u8>> {
        csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::with_capacity(CSV_CHUNK * 2))
    }

    fn write(&mut self, cells: impl IntoIterator<Item = String>) -> Result<(), AppError> {
        self.writer
            .write_record(cells)
            .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("writing the CSV")))
    }

    async fn flush(&mut self, at_least: usize) -> Result<(), AppError> {
        self.writer
            .flush()
            .map_err(|e| AppError::Internal(e.into()))?;
        if self.writer.get_ref().len() < at_least.max(1) {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.writer, Self::writer());
        let chunk = full
            .into_inner()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("writing the CSV: {e}")))?;
        self.progress
            .bytes
            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
        self.tx.send(Ok(chunk)).await.map_err(|_| gone())
    }
}

pub struct XlsxSink {
    workbook: Workbook,
    sheet: Option<usize>,
    row: u32,
    bold: Format,
    tx: mpsc::Sender<Chunk>,
    progress: Arc<Progress>,
}

/// One sheet or file's rows: a heading row, then data rows.
pub enum Sink {
    Csv(Box<CsvSink>),
    Xlsx(Box<XlsxSink>),
}

impl Sink {
    pub fn csv(tx: mpsc::Sender<Chunk>, progress: Arc<Progress>) -> Self {
        Self::Csv(Box::new(CsvSink::new(tx, progress)))
    }

    pub fn xlsx(tx: mpsc::Sender<Chunk>, progress: Arc<Progress>) -> Self {
        Self::Xlsx(Box::new(XlsxSink {
            workbook: Workbook::new(),
            sheet: None,
            row: 0,
            bold: Format::new().set_bold(),
            tx,
            progress,
        }))
    }

    /// Starts a sheet (a CSV has one: later calls are refused) with its
    /// heading row and column widths in characters.
    pub fn sheet(&mut self, name: &str, headings: &[(&str, f64)]) -> Result<(), AppError> {
        match self {
            Self::Csv(csv) => {
                if csv.progress.rows() > 0 || !csv.writer.get_ref().is_empty() {
                    return Err(AppError::Internal(anyhow::anyhow!("a CSV has one sheet")));
                }
                csv.write(headings.iter().map(|(h, _)| (*h).to_owned()))
            }
            Self::Xlsx(x) => {
                let sheet = x
                    .workbook
                    .add_worksheet_with_constant_memory()
                    .map_err(xlsx_error)?;
                sheet.set_name(name).map_err(xlsx_error)?;
                // Widths and the frozen heading before any row: constant memory
                // mode writes rows out as they come.
                for (col, (heading, width)) in headings.iter().enumerate() {
                    sheet
                        .set_column_width(col as u16, *width)
                        .map_err(xlsx_error)?;
                    sheet
                        .write_string_with_format(0, col as u16, *heading, &x.bold)
                        .map_err(xlsx_error)?;
                }
                sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
                x.sheet = Some(x.workbook.worksheets().len() - 1);
                x.row = 1;
                Ok(())
            }
        }
    }

    pub async fn row(&mut self, cells: &[Cell]) -> Result<(), AppError> {
        match self {
            Self::Csv(csv) => {
                csv.write(cells.iter().map(Cell::to_csv))?;
                csv.progress.rows.fetch_add(1, Ordering::Relaxed);
                csv.flush(CSV_CHUNK).await
            }
            Self::Xlsx(x) => {
                let index = x
                    .sheet
                    .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a row before its sheet")))?;
                let row = x.row;
                let sheet = x.workbook.worksheet_from_index(index).map_err(xlsx_error)?;
                for (col, cell) in cells.iter().enumerate() {
                    let col = col as u16;
                    match cell {
                        Cell::Text(s) => sheet.write_string(row, col, s).map(|_| ()),
                        Cell::Int(n) => sheet.write_number(row, col, *n as f64).map(|_| ()),
                        Cell::Number(v) => sheet.write_number(row, col, *v).map(|_| ()),
                        Cell::Empty => Ok(()),
                    }
                    .map_err(xlsx_error)?;
                }
                x.row += 1;
                x.progress.rows.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
        }
    }

    /// Sends what is left: the rest of the CSV, or the whole workbook, zipped
    /// into a temporary file and read back in chunks (off the async threads).
    pub async fn finish(self) -> Result<(), AppError> {
        match self {
            Self::Csv(mut csv) => csv.flush(1).await,
            Self::Xlsx(x) => {
                let XlsxSink {
                    mut workbook,
                    tx,
                    progress,
                    ..
                } = *x;
                tokio::task::spawn_blocking(move || -> Result<(), AppError> {
                    let mut file = temporary()?;
                    workbook.save_to_writer(&mut file).map_err(xlsx_error)?;
                    drop(workbook);
                    send_file(file, &tx, &progress)
                })
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("writing the XLSX: {e}")))?
            }
        }
    }
}

fn temporary() -> Result<std::fs::File, AppError> {
    tempfile::tempfile()
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("a temporary file")))
}

/// Sends a finished file from its start, in chunks, from a blocking thread.
fn send_file(
    mut file: std::fs::File,
    tx: &mpsc::Sender<Chunk>,
    progress: &Progress,
) -> Result<(), AppError> {
    file.rewind().map_err(|e| AppError::Internal(e.into()))?;
    loop {
        let mut chunk = vec![0; FILE_CHUNK];
        let n = file
            .read(&mut chunk)
            .map_err(|e| AppError::Internal(e.into()))?;
        if n == 0 {
            return Ok(());
        }
        chunk.truncate(n);
        progress.bytes.fetch_add(n as u64, Ordering::Relaxed);
        tx.blocking_send(Ok(chunk)).map_err(|_| gone())?;
    }
}

/// Writes a Word document into a temporary file block by block (each block
/// counted as a row of progress), then sends it, off the async threads.
pub async fn send_docx(
    doc: crate::docx::Document,
    tx: mpsc::Sender<Chunk>,
    progress: Arc<Progress>,
) -> Result<(), AppError> {
    let docx_error =
        |e: crate::docx::DocxError| AppError::Internal(anyhow::Error::new(e).context("the DOCX"));
    tokio::task::spawn_blocking(move || -> Result<(), AppError> {
        let file = temporary()?;
        let mut writer = crate::docx::DocxWriter::new(file, &doc.properties).map_err(docx_error)?;
        for block in &doc.blocks {
            writer.block(block).map_err(docx_error)?;
            progress.rows.fetch_add(1, Ordering::Relaxed);
        }
        let file = writer.finish().map_err(docx_error)?;
        drop(doc);
        send_file(file, &tx, &progress)
    })
    .await
    .map_err(|e| AppError::Internal(anyhow::anyhow!("writing the DOCX: {e}")))?
}
