import os
import tempfile

import pytest

# One torch thread: on the 2 shared cores, 2-thread OpenMP regions stall whenever other work
# runs beside the tests (a LeNet privacy run took 5 to 120 s with 2 threads, 4 to 8 s with 1).
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Tests never read or fill the user's artifact cache (~/.cache/splitsim).
os.environ.setdefault("SPLITSIM_CACHE_DIR", tempfile.mkdtemp(prefix="splitsim-test-cache-"))


@pytest.fixture(scope="session")
def nb201_sample():
    """500 NAS-Bench-201 networks drawn with seed 0 and their profiles (the hwmodels tests'
    shared sample)."""
    from hwmodels.validate import data_table, load_data

    df = load_data(500, seed=0)
    return df, data_table(df)
