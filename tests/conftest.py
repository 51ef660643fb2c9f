import os

# Two cores: keep torch from oversubscribing them when tests run beside other work.
os.environ.setdefault("OMP_NUM_THREADS", "2")
