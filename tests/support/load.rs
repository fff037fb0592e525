//! A timed write load for real-cluster tests and benches: one insert transaction after
//! another on the scenario's tables (`geekdb.files` and `geekdb.additional_roll`, both in
//! one transaction), each attempt timestamped and marked committed or refused, so a test
//! can say how long the application could not write while the origin moved.
//!
//! The [`Writer`] tries its targets in order, as an application behind a pooler would:
//! once a node other than the first target has taken a row, the pooler sends everything
//! there (the old origin is out of the application's list, as the runbooks' "Send the
//! writes" step asks; after a retire it would accept writes again, with no trigger to
//! replicate them). [`Writer::set_targets`] gives it a new list, for the next move.
//!
//! Each attempt is one `psql -c` (a new connection, `connect_timeout=3`), then a 40 ms
//! pause: about 15 to 20 attempts a second on an idle machine.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Pause between two attempts.
pub const PAUSE: Duration = Duration::from_millis(40);

/// One write attempt: when it started and ended, on which node, whether it committed.
#[derive(Debug, Clone, Copy)]
pub struct Attempt {
    /// When the attempt started (psql spawned).
    pub started: Instant,
    /// When psql returned.
    pub at: Instant,
    /// The Slony node tried.
    pub node: u32,
    /// Whether the transaction committed.
    pub ok: bool,
}

/// Inserts rows, one transaction after another, on the first of its targets that accepts
/// them (see the module documentation). Stopped by [`finish`](Self::finish) or on drop.
pub struct Writer {
    stop: Arc<AtomicBool>,
    targets: Arc<Mutex<Vec<(u32, u16)>>>,
    committed: Arc<Mutex<Vec<(i64, u32)>>>,
    attempts: Arc<Mutex<Vec<Attempt>>>,
    handle: Option<JoinHandle<()>>,
}

impl Writer {
    /// A writer on `targets` (node, port on 127.0.0.1), ids from 1.
    pub fn start(psql: PathBuf, dbname: String, targets: Vec<(u32, u16)>) -> Writer {
        Writer::start_at(psql, dbname, targets, 0)
    }

    /// A writer whose ids follow `last_id` (for a second writer on the same tables).
    pub fn start_at(psql: PathBuf, dbname: String, targets: Vec<(u32, u16)>, last_id: i64) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let targets = Arc::new(Mutex::new(targets));
        let committed = Arc::new(Mutex::new(Vec::new()));
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let handle = {
            let (stop, targets, committed, attempts) =
                (stop.clone(), targets.clone(), committed.clone(), attempts.clone());
            thread::spawn(move || {
                let mut id: i64 = last_id;
                while !stop.load(Ordering::SeqCst) {
                    id += 1;
                    let order = targets.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    for (i, &(node, port)) in order.iter().enumerate() {
                        let sql = format!(
                            "INSERT INTO geekdb.files VALUES ({id}, 'file {id}', {node}); INSERT INTO geekdb.additional_roll VALUES ({id}, {id}, md5('{id}'))"
                        );
                        let started = Instant::now();
                        let ok = Command::new(&psql)
                            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", &sql, "-d"])
                            .arg(format!(
                                "host=127.0.0.1 port={port} dbname={dbname} user=postgres connect_timeout=3"
                            ))
                            .stdout(Stdio::null())
                            .stderr(Stdio::null())
                            .status()
                            .is_ok_and(|s| s.success());
                        attempts.lock().unwrap_or_else(|p| p.into_inner()).push(Attempt {
                            started,
                            at: Instant::now(),
                            node,
                            ok,
                        });
                        if ok {
                            committed
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .push((id, node));
                            if i > 0 {
                                *targets.lock().unwrap_or_else(|p| p.into_inner()) = vec![(node, port)];
                            }
                            break;
                        }
                    }
                    thread::sleep(PAUSE);
                }
            })
        };
        Writer {
            stop,
            targets,
            committed,
            attempts,
            handle: Some(handle),
        }
    }

    /// The nodes to try from the next attempt on, in order.
    pub fn set_targets(&self, targets: Vec<(u32, u16)>) {
        *self.targets.lock().unwrap_or_else(|p| p.into_inner()) = targets;
    }

    /// How many rows node `node` has taken so far.
    pub fn committed_on(&self, node: u32) -> usize {
        self.committed
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, n)| *n == node)
            .count()
    }

    /// Every attempt so far.
    pub fn attempts(&self) -> Vec<Attempt> {
        self.attempts.lock().unwrap().clone()
    }

    /// Waits until node `node` has taken `rows` more rows; panics after `timeout`.
    pub fn wait_for_rows_on(&self, node: u32, rows: usize, timeout: Duration) {
        let start = Instant::now();
        let before = self.committed_on(node);
        while self.committed_on(node) < before + rows {
            assert!(
                start.elapsed() < timeout,
                "the writer did not get {rows} rows into node {node} within {timeout:?}"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the writer: the ids it committed, and every attempt.
    pub fn finish(mut self) -> (Vec<i64>, Vec<Attempt>) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(handle) = self.handle.take() {
            handle.join().expect("the writer thread");
        }
        let committed = self.committed.lock().unwrap().iter().map(|(id, _)| *id).collect();
        let attempts = self.attempts.lock().unwrap().clone();
        (committed, attempts)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// The write-unavailable window of a move from `old` to `new` among `attempts`: from the
/// end of the first write `old` refused to the end of the first write `new` accepted after
/// it. `None` when `old` refused nothing or `new` accepted nothing after that.
pub fn unavailable(attempts: &[Attempt], old: u32, new: u32) -> Option<Duration> {
    let first_refused = attempts.iter().find(|a| a.node == old && !a.ok)?.at;
    let first_accepted = attempts
        .iter()
        .find(|a| a.node == new && a.ok && a.at >= first_refused)?
        .at;
    Some(first_accepted - first_refused)
}

/// The longest time between two commits (end to end) among `attempts`: with a write
/// that blocked instead of being refused, this is where it shows. `None` with fewer than
/// two commits.
pub fn longest_gap(attempts: &[Attempt]) -> Option<Duration> {
    let commits: Vec<Instant> = attempts.iter().filter(|a| a.ok).map(|a| a.at).collect();
    commits.windows(2).map(|w| w[1] - w[0]).max()
}

/// Prints what the writer did and returns the write-unavailable window of a move from
/// `old` to `new` ([`unavailable`]).
pub fn report_writes(
    what: &str,
    attempts: &[Attempt],
    committed: usize,
    moved: Option<(u32, u32)>,
) -> Option<Duration> {
    let refused = attempts.iter().filter(|a| !a.ok).count();
    eprintln!("{what}: writer committed {committed} rows, {refused} attempts refused");
    let (old, new) = moved?;
    let window = unavailable(attempts, old, new)?;
    eprintln!(
        "{what}: write-unavailable window {:.2}s (first write refused on node {old} to first accepted on node {new})",
        window.as_secs_f64()
    );
    Some(window)
}
