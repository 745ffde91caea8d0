"""The shell examples of docs/*.md run as written: every fenced block in docs/ is either run by a test (here, or
the SQL tests of test_serve.py) or excluded below with the reason. Only what cannot run in a test is substituted:
/srv/newscrawl becomes a fresh checkout, the site (https://example.uz/, https://SITE/) the demo site on 127.0.0.1,
the Redis host 10.0.0.5:6379 a real redis-server on a free 127.0.0.1 port (with the docs' password), and the
crawl gets conftest.FAST's speed settings, as the README's cron test does. README.md has test_readme_commands.py
and test_cli_terminal.py::test_readme_cron_line_runs_on_a_fresh_checkout."""
from __future__ import annotations

import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FAST, ROOT
from redis_server import RedisServer, free_port
from test_cli_terminal import fresh_checkout, summary_lines

from newscrawl.demo.server import DemoServer
from newscrawl.demo.site import DEMO_START_PATH, demo_site
from newscrawl.extensions import SUMMARY_PREFIX
from newscrawl.lock import ArchiveLock

CLI = [sys.executable, "-m", "newscrawl.cli"]
BIN = Path(sys.executable).parent
"""The venv's bin/: a fresh checkout's .venv/bin/ links to it (the same installed newscrawl and scrapy)."""

HOW_CHECKED = {
    "sh": "run here: test_docs_sh_commands_run_as_written",
    "cron": "run here: the operations.md and distributed.md cron tests",
    "console": "run here: test_schema_doc_sqlite3_session_runs",
    "sql": "run by test_serve.py: test_schema_doc_sql_runs (schema.md) and test_doc_sql_examples_run",
    "ini": "not run: systemd units (distributed.md) need root and systemd; the commands in their ExecStart lines "
           "are what test_distributed.py runs as subprocesses",
    "conf": "not run: /etc/redis/redis.conf needs root; tests/redis_server.py starts redis-server with the same "
            "persistence settings as flags",
    "text": "not run: a diagram or printed output, not a command",
    "json": "not run: printed output (the extraction column), not a command",
    "toml": "not run here: the bundled demo profile, shown whole (test_profiles.py loads newscrawl/sites/demo.toml)",
    "python": "not run: library sketches (the pandas one needs pandas, which newscrawl does not install; the others "
              "use placeholders such as /srv/sites/mysite.toml and `...`); their APIs have their own tests",
}
SQL_DOCS_TESTED = {"docs/schema.md", "docs/search.md", "docs/stories.md"}
"""The docs whose ```sql blocks test_serve.py runs: a new doc with SQL must be added there."""


def doc_blocks() -> list[tuple[str, int, str, str]]:
    """(doc, line, language, text) of every fenced block in docs/*.md."""
    blocks = []
    for doc in sorted((ROOT / "docs").glob("*.md")):
        text = doc.read_text(encoding="utf-8")
        for match in re.finditer(r"^```(\S*)\n(.*?)^```$", text, re.S | re.M):
            line = text.count("\n", 0, match.start()) + 1
            blocks.append((f"docs/{doc.name}", line, match[1], match[2]))
    return blocks


def block_lines(doc: str, language: str) -> list[str]:
    return [line for d, _, lang, text in doc_blocks() if d == doc and lang == language
            for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_every_fenced_block_in_docs_is_run_or_excluded_with_a_reason() -> None:
    blocks = doc_blocks()
    assert len(blocks) > 20
    unlabeled = [f"{doc}:{line}" for doc, line, language, _ in blocks if not language]
    assert not unlabeled, f"give these blocks a language (sh, cron, text, ...) so a test knows them: {unlabeled}"
    unknown = {f"{doc}:{line} ```{language}" for doc, line, language, _ in blocks if language not in HOW_CHECKED}
    assert not unknown, f"no test runs these and no reason says why not: {unknown}"
    assert {doc for doc, _, language, _ in blocks if language == "sql"} <= SQL_DOCS_TESTED


# --- ```sh: newscrawl commands, on a copy of the crawled demo archive --------------------------------------------

SH_COMMANDS = [(doc, line.strip()) for doc, _, language, text in doc_blocks() if language == "sh"
               for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@pytest.fixture(scope="module")
def workdir(demo_archive, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose data/news.db is a copy of the crawled demo archive, as after the README's first command."""
    folder = tmp_path_factory.mktemp("docs")
    (folder / "data").mkdir()
    source, target = sqlite3.connect(demo_archive.db), sqlite3.connect(folder / "data" / "news.db")
    source.backup(target)
    source.close()
    target.close()
    return folder


def test_the_docs_have_shell_commands() -> None:
    assert any(line.startswith("newscrawl search") for _, line in SH_COMMANDS), SH_COMMANDS


@pytest.mark.parametrize(("doc", "line"), SH_COMMANDS)
def test_docs_sh_commands_run_as_written(workdir: Path, doc: str, line: str) -> None:
    argv = shlex.split(line)
    assert argv[0] == "newscrawl", f"{doc}: {line}: only newscrawl commands are run here"
    result = subprocess.run([*CLI, *argv[1:]], cwd=workdir, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{doc}: {line}\n{result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr
    assert result.stdout.strip(), f"{doc}: {line} printed nothing"


INLINE_LEFT_TO_OTHER_TESTS = {
    "serve": "never ends: test_serve.py serves a crawled archive as it does and reads its pages",
    "reparse": "rewrites the archive: test_reparse.py runs it, with --processes 1 and N",
    "crawl": "crawls: test_cli_terminal.py and test_archive_lifecycle.py run it",
}


def inline_commands() -> list[tuple[str, str]]:
    """`newscrawl COMMAND ARGS` spans in the docs' prose that are complete: arguments, and no placeholder (FILE,
    [optional], <word>, …, ...)."""
    found = []
    for doc in sorted((ROOT / "docs").glob("*.md")):
        for span in sorted(set(re.findall(r"`(newscrawl [^`]+)`", doc.read_text(encoding="utf-8")))):
            argv = shlex.split(span)
            if len(argv) > 2 and not re.search(r"[A-Z]{2,}|[\[<…:]|\.\.\.", span):
                found.append((f"docs/{doc.name}", span))
    return found


INLINE = inline_commands()


def test_the_docs_prose_has_runnable_commands() -> None:
    assert {span.split()[1] for _, span in INLINE} >= {"export", "latest", "search", "reparse"}, INLINE


@pytest.mark.parametrize(("doc", "span"), INLINE)
def test_docs_inline_commands_run_as_written(workdir: Path, tmp_path: Path, doc: str, span: str) -> None:
    argv = shlex.split(span)
    if argv[1] in INLINE_LEFT_TO_OTHER_TESTS:
        pytest.skip(f"{span}: {INLINE_LEFT_TO_OTHER_TESTS[argv[1]]}")
    if "-o" in argv:  # into this test's own folder, not the shared copy's
        argv[argv.index("-o") + 1] = str(tmp_path / argv[argv.index("-o") + 1])
    result = subprocess.run([*CLI, *argv[1:]], cwd=workdir, capture_output=True, timeout=120)
    stderr = result.stderr.decode(errors="replace")
    assert result.returncode == 0, f"{doc}: {span}\n{stderr[-2000:]}"
    assert "Traceback" not in stderr
    written = Path(argv[argv.index("-o") + 1]).stat().st_size if "-o" in argv else len(result.stdout)
    assert written > 0, f"{doc}: {span} wrote nothing"


def test_schema_doc_sqlite3_session_runs(workdir: Path) -> None:
    """docs/schema.md's sqlite3 session: the command, then what is typed at each `sqlite>` prompt."""
    (command, *typed) = block_lines("docs/schema.md", "console")
    assert command.startswith("sqlite3 ") and typed and all(t.startswith("sqlite> ") for t in typed)
    script = "".join(t.removeprefix("sqlite> ") + "\n" for t in typed)
    result = subprocess.run(shlex.split(command), cwd=workdir, input=script, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    days = [line for line in result.stdout.splitlines() if re.match(r"│ \d{4}-\d\d-\d\d ", line)]
    assert days, result.stdout  # .mode box: one boxed row per day


# --- docs/operations.md: the cron line -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_server():
    from datetime import datetime, timezone
    pages, _ = demo_site(datetime.now(timezone.utc))
    server = DemoServer(pages).start()
    yield server
    server.stop()


def cron_command(line: str) -> str:
    """What cron hands to /bin/sh: the line without its five schedule fields."""
    return line.split(None, 5)[5]


def checkout_with_venv(target: Path) -> Path:
    """A fresh checkout at `target` whose .venv/bin/ holds the installed newscrawl, scrapy and python."""
    checkout = fresh_checkout(target)
    (checkout / ".venv" / "bin").mkdir(parents=True)
    for name in ("python", "scrapy", "newscrawl"):
        (checkout / ".venv" / "bin" / name).symlink_to(BIN / name)
    return checkout


def run_cron(command: str, home: Path) -> subprocess.CompletedProcess[str]:
    """As cron runs a line: /bin/sh -c with cron's small environment."""
    return subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(home), "SHELL": "/bin/sh", "LANG": "C.UTF-8"})


def test_operations_cron_line_is_quiet_when_it_works_and_prints_the_log_when_it_fails(demo_server,
                                                                                      tmp_path: Path) -> None:
    """docs/operations.md: cron mails what a line prints; this one prints nothing on a good run, and the log's
    last lines, summary included, on a failed one (here: the site refuses connections)."""
    (line,) = block_lines("docs/operations.md", "cron")
    command = cron_command(line)
    assert command.startswith("cd /srv/newscrawl && .venv/bin/scrapy crawl ") and " || " in command, command
    checkout = checkout_with_venv(tmp_path / "newscrawl")
    assert not (checkout / "logs").exists() and not (checkout / "data" / "news.db").exists()
    crawl, fallback = command.split(" || ", 1)
    fast = " ".join(shlex.quote(a) for a in FAST)

    def written(site: str) -> str:
        command = f"{crawl} {fast} || {fallback}".replace("/srv/newscrawl", shlex.quote(str(checkout)))
        replaced = command.replace("https://example.uz/", site)
        assert replaced != command
        return replaced

    good = run_cron(written(f"{demo_server.url}/"), tmp_path)
    assert good.returncode == 0, good.stderr[-3000:]
    assert good.stdout == "" and good.stderr == "", "cron would mail a good run"
    log = checkout / "logs" / "siyosat.log"
    assert [line.split(SUMMARY_PREFIX)[1].split()[0] for line in summary_lines(log.read_text())] == ["status=ok"]
    assert (checkout / "data" / "news.db").exists()

    bad = run_cron(written(f"http://127.0.0.1:{free_port()}/"), tmp_path)
    (mailed,) = bad.stdout.splitlines() or [""]  # this run's summary line, and nothing else
    assert f"{SUMMARY_PREFIX}status=failed" in mailed and "Connection refused" in mailed, bad.stdout + bad.stderr
    assert bad.stderr == ""

    # the note below the line: an overlapping run exits 75 with one line on stderr, and
    # `.venv/bin/scrapy crawl ...; rc=$?; [ $rc -eq 75 ] || exit $rc` turns 75 into 0
    note = re.search(r"`(\.venv/bin/scrapy crawl \.\.\.)(; rc=\$\?; \[ \$rc -eq 75 \] \|\| exit \$rc)`",
                     (ROOT / "docs" / "operations.md").read_text(encoding="utf-8"))
    assert note, "the note on exit status 75 changed: update this test"
    locked = written(f"{demo_server.url}/").split(" || ")[0] + note[2]
    with ArchiveLock(checkout / "data" / "news.db"):
        result = run_cron(locked, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("newscrawl: another newscrawl run (pid ") and len(result.stderr.splitlines()) == 1


# --- docs/distributed.md: the cron enqueues, against a real redis-server ----------------------------------------

def test_distributed_cron_lines_queue_jobs_once(demo_server, tmp_path: Path) -> None:
    """docs/distributed.md's cron lines, run twice: each queues its job once, the second time each says the job is
    already waiting (cron does not pile up jobs while the workers are busy)."""
    lines = block_lines("docs/distributed.md", "cron")
    assert len(lines) == 3 and all(".venv/bin/newscrawl enqueue " in line for line in lines), lines
    server = RedisServer(tmp_path / "redis").start()
    try:
        server.client().config_set("requirepass", "CHANGE-ME")  # as the docs' redis.conf sets it
        checkout = checkout_with_venv(tmp_path / "newscrawl")
        profile = tmp_path / "mysite.toml"  # a site profile of the operator's: the demo's, at the demo server
        demo = (ROOT / "newscrawl" / "sites" / "demo.toml").read_text(encoding="utf-8")
        mine = demo.replace("[categories]\n", f'base_url = "{demo_server.url}/"\n\n[categories]\n'
                                                f'jamiyat = "{DEMO_START_PATH}"\n', 1)
        assert mine != demo and "base_url" not in demo
        profile.write_text(mine, encoding="utf-8")

        def written(line: str) -> str:
            command = cron_command(line).replace("/srv/newscrawl", shlex.quote(str(checkout)))
            command = command.replace("@10.0.0.5:6379/", f"@127.0.0.1:{server.port}/")
            command = command.replace("https://SITE/", f"{demo_server.url}/")
            return command.replace("/srv/sites/mysite.toml", shlex.quote(str(profile)))

        first = [run_cron(written(line), tmp_path) for line in lines]
        for line, result in zip(lines, first, strict=True):
            assert result.returncode == 0 and result.stderr == "", f"{line}\n{result.stderr}"
            assert result.stdout.startswith("queued job "), result.stdout
        assert len({result.stdout.split()[2] for result in first}) == 3  # three different jobs
        again = [run_cron(written(line), tmp_path) for line in lines]
        assert all(r.returncode == 0 and r.stdout.startswith("an identical job is already queued: ") for r in again)
        assert [r.stdout.split()[-1] for r in again] == [r.stdout.split()[2] for r in first]
        wrong = run_cron(written(lines[0]).replace(":CHANGE-ME@", ":wrong@"), tmp_path)
        assert wrong.returncode != 0 and ":wrong@" not in wrong.stderr + wrong.stdout, wrong.stderr
    finally:
        server.stop()
