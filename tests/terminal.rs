//! A person at a terminal, played under tmux: the node runs in a real
//! pseudo-terminal, keys are typed into it, and the screen tmux renders is
//! what is checked. Log lines land above the prompt and leave the line being
//! typed intact, Ctrl-D leaves no prompt behind, the history survives `quit`
//! and SIGTERM, and the terminal gets its mode back. Needs `tmux` (CI
//! installs it); without it these tests fail, saying so.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use p2pnode_testkit::{Binary, Opts};

const BIN: Binary = Binary::new(env!("CARGO_BIN_EXE_p2pnode"));

/// How long the screen may take to show what a test waits for.
const SCREEN_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a node may take to join a bootstrap peer that comes up late
/// (its retries back off: 1 s, 2 s, 4 s, ...).
const JOIN_TIMEOUT: Duration = Duration::from_secs(40);

const PROMPT: &str = "p2pnode>";

/// A tmux server of our own (its own socket), with one pane running
/// `p2pnode ARGS` under `sh`, which prints the exit status and the
/// terminal's mode (`stty -a`) once the node has exited. The pane stays on
/// screen after that (`remain-on-exit`).
struct Screen {
    dir: tempfile::TempDir,
}

impl Screen {
    fn start(args: &[&str]) -> Screen {
        Screen::start_with_rust_log(args, None)
    }

    /// [`Screen::start`] with `RUST_LOG` set to `rust_log` (`None`: unset).
    fn start_with_rust_log(args: &[&str], rust_log: Option<&str>) -> Screen {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("tmux.conf"), "set -g remain-on-exit on\n")
            .expect("write tmux.conf");
        let screen = Screen { dir };
        let status = screen
            .tmux()
            .args([
                "new-session",
                "-d",
                "-x",
                "200",
                "-y",
                "50",
                "-s",
                "t",
                "--",
            ])
            .args(["sh", "-c", r#""$0" "$@"; echo "exit status $?"; stty -a"#])
            .arg(BIN.path())
            .args(args)
            // The defaults a person gets: no RUST_LOG, no P2P_REMOTE_HOST.
            .env_remove("RUST_LOG")
            .env_remove("P2P_REMOTE_HOST")
            .envs(rust_log.map(|v| ("RUST_LOG", v)))
            .status()
            .unwrap_or_else(|e| panic!("cannot run tmux ({e}): install it (apt-get install tmux)"));
        assert!(status.success(), "tmux new-session failed: {status}");
        screen
    }

    fn tmux(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S")
            .arg(self.dir.path().join("socket"))
            .arg("-f")
            .arg(self.dir.path().join("tmux.conf"));
        cmd
    }

    fn query(&self, args: &[&str]) -> String {
        let out = self.tmux().args(args).output().expect("run tmux");
        assert!(out.status.success(), "tmux {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen as rendered, wrapped lines joined.
    fn text(&self) -> String {
        self.query(&["capture-pane", "-p", "-J", "-t", "t"])
    }

    /// Types `text` as literal keys.
    fn type_text(&self, text: &str) {
        self.query(&["send-keys", "-t", "t", "-l", text]);
    }

    /// Presses a key by its tmux name (`Enter`, `C-d`, `Up`, ...).
    fn press(&self, key: &str) {
        self.query(&["send-keys", "-t", "t", key]);
    }

    /// Waits until the screen satisfies `pred`; returns that screen.
    fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.text();
            if pred(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within {timeout:?}; the screen:\n{text}"
            );
            // Pace the polling; the deadline above, not this pause, is the wait.
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the node has exited; returns the screen.
    fn wait_exit(&self) -> String {
        self.wait_for("exit", SCREEN_TIMEOUT, |s| s.contains("exit status"))
    }

    /// The node's process: the child of the pane's shell.
    fn node_pid(&self) -> u32 {
        let shell: u32 = self
            .query(&["display-message", "-p", "-t", "t", "#{pane_pid}"])
            .trim()
            .parse()
            .expect("pane pid");
        child_of(shell).expect("the node runs under the pane's shell")
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}

/// The first process whose parent is `parent`, from /proc.
fn child_of(parent: u32) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
            let ppid: u32 = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (ppid == parent).then_some(pid)
        })
}

/// The screen's lines that hold anything, trailing blanks trimmed.
fn lines(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect()
}

fn last_line(screen: &str) -> &str {
    lines(screen).last().copied().unwrap_or("")
}

/// A port on 127.0.0.1 nobody listens on (taken, then freed).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

fn data_dir(dir: &Path) -> String {
    dir.join("node").to_string_lossy().into_owned()
}

#[test]
fn a_log_line_lands_above_the_prompt_and_the_line_being_typed_survives() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // The bootstrap peer is not up yet: the node prompts, then joins it
    // later, logging `joined` while a command is half typed.
    let port = free_port();
    let bootstrap = format!("127.0.0.1:{port}");
    let dir = data_dir(tmp.path());
    let args = ["--ephemeral", "--listen", "/ip4/127.0.0.1/tcp/0"];
    let screen =
        Screen::start(&[&args[..], &["--data-dir", &dir, "--bootstrap", &bootstrap]].concat());
    screen.wait_for("prompt", SCREEN_TIMEOUT, |s| last_line(s) == PROMPT);
    screen.type_text("put half");
    screen.wait_for("typed text", SCREEN_TIMEOUT, |s| {
        last_line(s) == "p2pnode> put half"
    });
    let _seed = BIN.start(Opts::default().listen(format!("/ip4/127.0.0.1/tcp/{port}")));
    // Each log line is printed, then the prompt redrawn: wait for both.
    let text = screen.wait_for("`joined` line under an intact prompt", JOIN_TIMEOUT, |s| {
        s.contains("joined") && last_line(s) == "p2pnode> put half"
    });

    let shown = lines(&text);
    let prompt_at = shown.len() - 1;
    assert_eq!(shown[prompt_at], "p2pnode> put half", "{text}");
    let joined_at = shown
        .iter()
        .position(|l| l.contains("joined"))
        .expect("joined");
    let help_at = shown
        .iter()
        .position(|l| l.contains("type 'help'"))
        .expect("banner");
    assert!(joined_at < prompt_at && help_at < prompt_at, "{text}");
    assert!(
        shown[..prompt_at].iter().all(|l| !l.starts_with(PROMPT)),
        "a prompt left behind among the logs:\n{text}"
    );
    // By default a terminal shows p2pnode's own news, not library chatter.
    assert!(!text.contains("libp2p"), "library logs on screen:\n{text}");

    // The half-typed line is still the editor's: finish it and use it.
    screen.type_text(" and the rest");
    screen.press("Enter");
    screen.wait_for("put answer", SCREEN_TIMEOUT, |s| s.contains("stored half"));
    screen.type_text("get half");
    screen.press("Enter");
    screen.wait_for("get answer", SCREEN_TIMEOUT, |s| {
        lines(s).contains(&"and the rest")
    });
}

#[test]
fn the_banner_is_not_repeated_by_log_lines_even_with_an_empty_rust_log() {
    // `export RUST_LOG=` in a profile is common; it means "unset".
    for rust_log in [None, Some("")] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = data_dir(tmp.path());
        let args = ["--ephemeral", "--listen", "/ip4/127.0.0.1/tcp/0"];
        let screen =
            Screen::start_with_rust_log(&[&args[..], &["--data-dir", &dir]].concat(), rust_log);
        let text = screen.wait_for("prompt", SCREEN_TIMEOUT, |s| last_line(s) == PROMPT);
        assert!(text.contains("listening on /ip4/127.0.0.1/tcp/"), "{text}");
        for startup in [
            "INFO",
            "listening address=",
            "record store opened",
            "creating a new network",
        ] {
            assert!(
                !text.contains(startup),
                "RUST_LOG={rust_log:?}: start-up log line on screen ({startup}):\n{text}"
            );
        }
    }
}

#[test]
fn ctrl_d_leaves_no_prompt_behind() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(tmp.path());
    let screen = Screen::start(&[
        "--ephemeral",
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--data-dir",
        &dir,
    ]);
    screen.wait_for("prompt", SCREEN_TIMEOUT, |s| last_line(s) == PROMPT);
    screen.press("C-d");
    let text = screen.wait_exit();
    assert!(text.contains("exit status 0"), "{text}");
    assert!(
        lines(&text).iter().all(|l| !l.starts_with(PROMPT)),
        "a prompt left on screen after Ctrl-D:\n{text}"
    );
}

fn history(dir: &str) -> String {
    std::fs::read_to_string(PathBuf::from(dir).join("history.txt")).unwrap_or_default()
}

#[test]
fn history_survives_quit_and_sigterm_and_the_terminal_gets_its_mode_back() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = data_dir(tmp.path());
    let args = ["--listen", "/ip4/127.0.0.1/tcp/0", "--data-dir", &dir];

    // `quit`: the command loop ends while the editor waits for its answer.
    let screen = Screen::start(&args);
    screen.wait_for("prompt", SCREEN_TIMEOUT, |s| last_line(s) == PROMPT);
    screen.type_text("put h1 one");
    screen.press("Enter");
    screen.wait_for("put answer", SCREEN_TIMEOUT, |s| s.contains("stored h1"));
    screen.type_text("quit");
    screen.press("Enter");
    let text = screen.wait_exit();
    assert!(text.contains("exit status 0"), "{text}");
    let kept = history(&dir);
    assert!(
        kept.contains("put h1 one\nquit\n"),
        "history after quit: {kept:?}"
    );
    drop(screen);

    // SIGTERM: the node stops while the editor waits at the prompt.
    let screen = Screen::start(&args);
    screen.wait_for("prompt", SCREEN_TIMEOUT, |s| last_line(s) == PROMPT);
    screen.press("Up");
    screen.wait_for("the last session's command", SCREEN_TIMEOUT, |s| {
        last_line(s) == "p2pnode> quit"
    });
    screen.press("C-u");
    screen.type_text("put h2 two");
    screen.press("Enter");
    screen.wait_for("put answer", SCREEN_TIMEOUT, |s| s.contains("stored h2"));
    screen.type_text("put h3");
    screen.wait_for("typed text", SCREEN_TIMEOUT, |s| {
        last_line(s) == "p2pnode> put h3"
    });
    let killed = Command::new("kill")
        .args(["-TERM", &screen.node_pid().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let text = screen.wait_exit();
    assert!(text.contains("exit status 0"), "{text}");
    let kept = history(&dir);
    assert!(
        kept.contains("put h2 two\n"),
        "history after SIGTERM: {kept:?}"
    );
    // The interrupted line keeps a line of its own; logs start below it.
    assert!(lines(&text).contains(&"p2pnode> put h3"), "{text}");
    // The shell gets its terminal back: canonical mode, echo on.
    let words: Vec<&str> = text.split_whitespace().collect();
    for flag in ["icanon", "echo"] {
        assert!(
            words.contains(&flag),
            "terminal left without {flag} after SIGTERM:\n{text}"
        );
    }
}
