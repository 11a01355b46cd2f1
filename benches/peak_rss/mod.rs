//! A child process's own peak memory. `getrusage(RUSAGE_CHILDREN)` (and
//! `wait4`) would not do: on Linux a child spawned with `CLONE_VM` records the
//! memory high-water mark of its parent at `exec`, so the bench's own memory
//! would be counted. `VmHWM` in `/proc/PID/status` belongs to the child's new
//! address space alone; it is sampled until the child exits.

use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

/// Runs `command`; its status, wall time and peak RSS in KiB (sampled every
/// 2 ms, so a rise in the last 2 ms before exit may be missed).
pub fn run(command: &mut Command) -> anyhow::Result<(ExitStatus, Duration, u64)> {
    let start = Instant::now();
    let mut child = command.spawn()?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_path) {
            let hwm = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
            if let Some(hwm) = hwm {
                peak = peak.max(hwm);
            }
        }
        if let Some(status) = child.try_wait()? {
            return Ok((status, start.elapsed(), peak));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
