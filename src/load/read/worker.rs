//! A reader fed by a worker thread. The xlsx and SEN2 readers parse on a thread of their own
//! (their parsers pull from a `Read` and hold borrows the reader cannot), sending one record
//! at a time through a small bounded queue, so memory stays within a few records whatever the
//! input's size. Dropping the reader stops the worker at its next record (its send fails).
//! The end is an explicit message, so a worker that died early is an error, not a short file.
//!
//! Owns: [`Msg`], [`WorkerReader`] (the reading side) and [`spawn`].

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::{ReadError, Record, RecordReader};

/// What the worker sends: records, then the end or why it stopped.
pub(crate) enum Msg {
    Row(Record),
    End,
    Fail(ReadError),
}

/// The records a worker sends, read on this side of the queue.
pub struct WorkerReader {
    rx: Receiver<Msg>,
    done: bool,
    last_line: u64,
    /// The error for a worker gone without its last message ("the workbook reader stopped
    /// before the end of the sheet").
    stopped: &'static str,
}

/// Run `work` on a thread named `name`, with a queue of `queue` records. `work` sends rows,
/// and returns its last message (the end, or a failure), or `None` when the reader is gone
/// and nobody needs the news.
pub(crate) fn spawn<F>(
    name: &str,
    queue: usize,
    stopped: &'static str,
    work: F,
) -> std::io::Result<WorkerReader>
where
    F: FnOnce(&SyncSender<Msg>) -> Option<Msg> + Send + 'static,
{
    let (tx, rx) = sync_channel(queue);
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            if let Some(last) = work(&tx) {
                // The reader may be gone already; then nobody needs the news.
                let _ = tx.send(last);
            }
        })?;
    Ok(WorkerReader {
        rx,
        done: false,
        last_line: 1,
        stopped,
    })
}

impl RecordReader for WorkerReader {
    fn read(&mut self, rec: &mut Record) -> Result<bool, ReadError> {
        rec.clear();
        if self.done {
            return Ok(false);
        }
        match self.rx.recv() {
            Ok(Msg::Row(mut row)) => {
                self.last_line = row.line;
                std::mem::swap(rec, &mut row);
                Ok(true)
            }
            Ok(Msg::End) => {
                self.done = true;
                Ok(false)
            }
            Ok(Msg::Fail(e)) => {
                self.done = true;
                Err(e)
            }
            Err(_) => {
                self.done = true;
                Err(ReadError::new(self.last_line, self.stopped))
            }
        }
    }
}
