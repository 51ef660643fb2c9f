import os
import tempfile

# Two cores: keep torch from oversubscribing them when tests run beside other work.
os.environ.setdefault("OMP_NUM_THREADS", "2")
# Tests never read or fill the user's artifact cache (~/.cache/splitsim).
os.environ.setdefault("SPLITSIM_CACHE_DIR", tempfile.mkdtemp(prefix="splitsim-test-cache-"))
