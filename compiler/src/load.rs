//! Reading a program from the command line's paths.

use nudge_grammar::Sources;
use std::io;
use std::path::{Path, PathBuf};

/// Reads every `*.nudge` file named, and every one under the directories named
/// (recursively), in sorted path order.
pub fn load_paths(paths: &[PathBuf]) -> io::Result<Sources> {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files, true)?;
    }
    files.sort();
    files.dedup();
    let mut sources = Sources::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", file.display())))?;
        sources.add(file.display().to_string(), text);
    }
    Ok(sources)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>, named: bool) -> io::Result<()> {
    let meta = std::fs::metadata(path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    if meta.is_dir() {
        let mut entries = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<io::Result<Vec<_>>>()?;
        entries.sort();
        for entry in entries {
            collect(&entry, out, false)?;
        }
    } else if named || path.extension().is_some_and(|e| e == "nudge") {
        out.push(path.to_path_buf());
    }
    Ok(())
}
