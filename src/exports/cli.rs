//! `concord export`: one export written to a file, as the project's owner,
//! with a progress line on standard error.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use super::model::ExportKind;
use super::service::{self, Options};
use crate::db::ids::ProjectId;
use crate::state::AppState;

/// For clap: a `--format` name, with the list of names when it is none.
pub fn parse_kind(name: &str) -> Result<ExportKind, String> {
    ExportKind::parse(name)
        .filter(|k| k.from_command_line())
        .ok_or_else(|| {
            let names: Vec<&str> = ExportKind::ALL
                .iter()
                .filter(|k| k.from_command_line())
                .map(|k| k.as_str())
                .collect();
            format!("choose one of {}", names.join(", "))
        })
}

pub async fn run(
    state: &AppState,
    project: ProjectId,
    kind: ExportKind,
    coder_layers: bool,
    out: &Path,
) -> anyhow::Result<()> {
    let (actor, name) = service::owner_actor(state, project)
        .await
        .map_err(|_| anyhow::anyhow!("no project with an owner has the id {project}"))?;
    let options = Options {
        coder_layers,
        ..Options::default()
    };
    let mut download = service::start(state, &actor, kind, options)
        .await
        .map_err(|e| anyhow::anyhow!("{} as {name}: {e}", kind.as_str()))?;
    let mut file =
        std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar.enable_steady_tick(Duration::from_millis(200));
    let progress = download.progress.clone();
    let status = |p: &super::sink::Progress| {
        format!("{}: {} rows, {} bytes", kind.as_str(), p.rows(), p.bytes())
    };
    let written = async {
        while let Some(chunk) = download.chunks.recv().await {
            let chunk = chunk.context("the export ended short")?;
            file.write_all(&chunk)
                .with_context(|| format!("writing {}", out.display()))?;
            bar.set_message(status(&progress));
        }
        file.flush()?;
        anyhow::Ok(())
    }
    .await;
    bar.finish_and_clear();
    if let Err(error) = written {
        drop(file);
        let _ = std::fs::remove_file(out);
        return Err(error);
    }
    eprintln!("Wrote {} ({})", out.display(), status(&progress));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_makes_no_ones_own_codebook() {
        let refused = parse_kind("own-codebook-csv").unwrap_err();
        assert!(refused.contains("codebook-docx") && !refused.contains("own-codebook"));
        assert_eq!(parse_kind("codebook-csv"), Ok(ExportKind::CodebookCsv));
    }
}
