import os
import tempfile

# One torch thread: on the 2 shared cores, 2-thread OpenMP regions stall whenever other work
# runs beside the tests (a LeNet privacy run took 5 to 120 s with 2 threads, 4 to 8 s with 1).
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Tests never read or fill the user's artifact cache (~/.cache/splitsim).
os.environ.setdefault("SPLITSIM_CACHE_DIR", tempfile.mkdtemp(prefix="splitsim-test-cache-"))
