"""docker/build/apt-install without a build: what it would give apt, today's mirror or Debian's
snapshot of the locks' time (snapshot.debian.org itself is not reachable from this project's CI)."""

import subprocess
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APT_INSTALL = REPO / "docker" / "build" / "apt-install"
LOCK = REPO / "docker" / "requirements" / "apt-os.txt"


def print_config(snapshot, *locks):
    return subprocess.run(
        [str(APT_INSTALL), "--print-config", *(locks or [str(LOCK)])],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DEBIAN_SNAPSHOT": snapshot, "DEBIAN_SUITE": "bookworm"},
    )


def locked_at():
    text = (REPO / "docker" / "requirements" / "locked-at.txt").read_text()
    return datetime.strptime(
        next(line for line in text.splitlines() if line and not line.startswith("#")), "%Y-%m-%dT%H:%M:%SZ"
    ).replace(tzinfo=timezone.utc)


def test_without_a_snapshot_the_images_own_sources_install_exactly_the_lock():
    p = print_config("")
    assert p.returncode == 0, p.stderr
    pins = [line for line in LOCK.read_text().splitlines() if line and not line.startswith("#")]
    assert p.stdout.splitlines() == [
        "# the image's own sources (Debian's mirror)",
        "# apt-get install -y --no-install-recommends " + " ".join(pins),
    ]


def test_a_snapshot_installs_from_debians_archive_as_it_was_then():
    p = print_config("20261130T012815Z")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert [line for line in lines if line.startswith("deb ")] == [
        "deb http://snapshot.debian.org/archive/debian/20261130T012815Z bookworm main",
        "deb http://snapshot.debian.org/archive/debian/20261130T012815Z bookworm-updates main",
        "deb http://snapshot.debian.org/archive/debian-security/20261130T012815Z bookworm-security main",
    ]
    assert 'Acquire::Check-Valid-Until "false";' in lines
    # Only the snapshot's sources: the image's own list and parts are not read for this install.
    assert any(line.startswith('Dir::Etc::SourceList "/tmp/apt-snapshot.') for line in lines)
    assert any(line.startswith('Dir::Etc::SourceParts "/tmp/apt-snapshot.') for line in lines)
    assert lines[0].startswith("# APT_CONFIG=/tmp/apt-snapshot.")
    # the temporary configuration is gone after
    assert not Path(lines[0].split("=", 1)[1]).exists()


def test_a_malformed_snapshot_time_is_one_line_and_installs_nothing():
    p = print_config("2026-11-30")
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.splitlines() == [
        "apt-install: DEBIAN_SNAPSHOT=2026-11-30 is not a snapshot.debian.org time such as 20261202T000000Z"
    ]


def test_the_recorded_lock_time_is_a_snapshot_apt_install_takes():
    """make lock writes locked-at.txt; `make build DEBIAN_SNAPSHOT=lock` turns it into this."""
    when = locked_at()
    assert when < datetime.now(timezone.utc)
    p = print_config(when.strftime("%Y%m%dT%H%M%SZ"))
    assert p.returncode == 0, p.stderr
    assert f"/archive/debian/{when:%Y%m%dT%H%M%SZ} bookworm main" in p.stdout


def test_every_lock_together():
    locks = sorted(str(p) for p in (REPO / "docker" / "requirements").glob("apt-hub*.txt"))
    p = print_config("", *locks)
    assert p.returncode == 0, p.stderr
    assert "nodejs=" in p.stdout and "npm=" in p.stdout
