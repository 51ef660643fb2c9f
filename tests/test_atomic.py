"""Atomic writes leave no debris after a kill and give finished files the umask's mode."""
import os
import subprocess
import sys

from core.atomic import write_text_atomic


def test_temporaries_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    target = tmp_path / "results.csv"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = tmp_path / f".results.csv.{dead.stdout.strip()}.abc123.tmp"   # a killed writer's
    live = tmp_path / f".results.csv.{os.getpid()}.def456.tmp"            # a writer at work
    other = tmp_path / f".plot.png.{dead.stdout.strip()}.x.tmp"          # another target's
    for p in (stale, live, other):
        p.write_text("half")
    write_text_atomic(target, "cut,total_mj\n")
    assert target.read_text() == "cut,total_mj\n"
    assert not stale.exists() and live.exists() and other.exists()


def test_finished_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
