//! Where a command's output goes: the process's stdout, or with `--output FILE` memory
//! that is written to FILE atomically once the command has run to its end.

use std::io::{self, BufWriter, Stdout, Write};
use std::path::{Path, PathBuf};

use super::FrontendError;

/// A command's stdout. Without `--output` the bytes go to the process's stdout (buffered;
/// [`Sink::finish`] flushes); with `--output FILE` they are kept in memory and
/// [`Sink::finish`] writes them to FILE through [`crate::atomic_file`]: a temporary file
/// beside it, synced, renamed over it, at most 0600 when the text holds a password. A sink
/// dropped without [`Sink::finish`] (the command failed) leaves FILE as it was.
#[derive(Debug)]
pub struct Sink {
    to: Option<PathBuf>,
    buffer: Vec<u8>,
    stdout: Option<BufWriter<Stdout>>,
    finished: bool,
}

impl Sink {
    /// A sink on stdout, or on `file` (`--output`).
    pub fn new(file: Option<PathBuf>) -> Sink {
        Sink {
            to: file,
            buffer: Vec::new(),
            stdout: None,
            finished: false,
        }
    }

    /// The `--output` file, if any.
    pub fn file(&self) -> Option<&Path> {
        self.to.as_deref()
    }

    /// Ends the output: flushes stdout, or writes the `--output` file atomically. Once done,
    /// later calls do nothing, so a command may finish its output before it puts a config
    /// in place and the caller finish it again.
    pub fn finish(&mut self) -> Result<(), crate::Error> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        match &self.to {
            None => match &mut self.stdout {
                Some(out) => out.flush().map_err(super::output),
                None => Ok(()),
            },
            Some(path) => {
                let buffer = std::mem::take(&mut self.buffer);
                let mode = crate::atomic_file::Mode {
                    like: None,
                    secret: holds_secret(&buffer),
                };
                crate::atomic_file::write(path, &buffer, mode).map_err(|source| {
                    FrontendError::WriteOutput {
                        path: path.clone(),
                        source,
                    }
                    .into()
                })
            }
        }
    }
}

/// Whether output text holds a password (one the redaction of `--check`'s diffs would hide).
fn holds_secret(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    crate::model::conninfo::redact_secrets(&text) != text
}

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.to.is_some() {
            self.buffer.extend_from_slice(bytes);
            return Ok(bytes.len());
        }
        self.stdout
            .get_or_insert_with(|| BufWriter::new(io::stdout()))
            .write(bytes)
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.to.is_some() {
            self.buffer.extend_from_slice(bytes);
            return Ok(());
        }
        self.stdout
            .get_or_insert_with(|| BufWriter::new(io::stdout()))
            .write_all(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.stdout {
            Some(out) => out.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_sink_writes_nothing_until_finished_and_nothing_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.slonik");
        std::fs::write(&path, "old\n").unwrap();
        let mut sink = Sink::new(Some(path.clone()));
        sink.write_all(b"new\n").unwrap();
        drop(sink);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");

        let mut sink = Sink::new(Some(path.clone()));
        sink.write_all(b"new\n").unwrap();
        sink.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        sink.finish().unwrap();
        sink.finish().unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
    }

    #[test]
    fn output_holding_a_password_is_never_more_open_than_0600() {
        assert!(holds_secret(b"conninfo = 'host=a password=s3cret'"));
        assert!(!holds_secret(b"conninfo = 'host=a user=b'"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("out.slonik");
            let mut sink = Sink::new(Some(path.clone()));
            sink.write_all(b"admin conninfo = 'host=a password=s3cret';\n")
                .unwrap();
            sink.finish().unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
    }
}
