//! The server under test: this same executable (or another build of it) re-run in `serve` mode as a
//! child process, so that its memory and CPU time are measured apart from the load generator's.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How the server under test is started.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// The executable to run as `PATH serve`; `None`: this one.
    pub bin: Option<PathBuf>,
    /// The one CPU the server runs on; `None`: any.
    pub cpu: Option<usize>,
}

/// A running server process.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl ServerProcess {
    /// Starts a server over `database_url` in `data_dir`, with `extra` settings.
    pub fn start(
        options: &ServerOptions,
        database_url: &str,
        data_dir: &std::path::Path,
        extra: &[(&str, &str)],
    ) -> ServerProcess {
        let exe = match &options.bin {
            Some(bin) => bin.clone(),
            None => std::env::current_exe().expect("own executable"),
        };
        let mut command = Command::new(exe);
        if let Some(cpu) = options.cpu {
            // SAFETY: the closure runs between fork and exec and only makes one system call.
            unsafe {
                command.pre_exec(move || pin_to(cpu));
            }
        }
        let mut child = command
            .arg("serve")
            .env("TIDINGS_DATABASE_URL", database_url)
            .env("TIDINGS_BIND", "127.0.0.1:0")
            .env("TIDINGS_DATA_DIR", data_dir)
            .env("TIDINGS_BCRYPT_COST", "4")
            // The load comes from one address and a few senders: no limits.
            .env("TIDINGS_RATE_LIMIT_AUTH_PER_MINUTE", "0")
            .env("TIDINGS_RATE_LIMIT_PER_MINUTE", "0")
            .env("TIDINGS_RATE_LIMIT_SENDS_PER_15_MIN", "0")
            .env("TIDINGS_WS_FRAMES_PER_SECOND", "0")
            .env("TIDINGS_LOG", "tidings_server=info,warn")
            .env("TIDINGS_LOG_FORMAT", "pretty")
            .envs(extra.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = lines.next().expect("server exited before listening").expect("read server output");
            if let Some(at) = line.find("http://") {
                break line[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || ":/.".contains(*c))
                    .collect();
            }
        };
        // Keep draining its output so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        ServerProcess { child, base }
    }

    /// The server's process id (for `perf record -p`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the server, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// CPU time the server has used so far (user and system, every thread), in seconds; `None`
    /// where `/proc` does not tell.
    pub fn cpu_seconds(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // Fields after the command name (which may hold spaces) start with the state, field 3:
        // utime and stime are fields 14 and 15, in clock ticks.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        // SAFETY: sysconf has no memory-safety preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        (per_second > 0).then(|| ticks as f64 / per_second as f64)
    }

    /// Stops the server with SIGTERM and waits for it.
    pub fn stop(mut self) {
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        for _ in 0..200 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    /// A run that fails halfway leaves no server behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the server in this process (the child side of [`ServerProcess::start`]).
pub fn serve() -> std::process::ExitCode {
    let config = match tidings_server::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tidings-bench serve: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    // The benchmark's server exports no traces: their export would be measured with it.
    if let Err(e) = tidings_server::telemetry::init(&config.log, config.log_format, None) {
        eprintln!("tidings-bench serve: {e}");
        return std::process::ExitCode::from(2);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    match runtime.block_on(tidings_server::serve(config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tidings-bench serve: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Raises this process's open-file limit to its hard limit, and the hard limit itself to `wanted`
/// where it is lower and the process may (children inherit both); returns the limit in force.
pub fn raise_fd_limit(wanted: u64) -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            if limit.rlim_max < wanted {
                let higher = libc::rlimit { rlim_cur: wanted, rlim_max: wanted };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &higher) == 0 {
                    return wanted;
                }
            }
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
    limit.rlim_cur
}

/// Binds the calling thread, and the threads it starts afterwards, to `cpu`.
pub fn pin_to(cpu: usize) -> std::io::Result<()> {
    // SAFETY: cpu_set_t is plain data; CPU_SET stays within it for cpu < CPU_SETSIZE (checked),
    // and sched_setaffinity only reads the set for the duration of the call.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if cpu >= libc::CPU_SETSIZE as usize {
            return Err(std::io::Error::from_raw_os_error(libc::EINVAL));
        }
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
