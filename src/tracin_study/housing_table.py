"""Facts about the California housing table that the workflow needs while it is parsed: its
row count, the shipped snapshot and the split sizes. Plain Python, no numpy or pandas
(`tracin_study.data` reads and splits the table itself)."""

from importlib import resources
from pathlib import Path

N_ROWS = 20_640
SNAPSHOT = "california_housing.csv.gz"  # the table's copy shipped in tracin_study/resources


def shipped_snapshot() -> Path:
    """Path of the checksummed CSV snapshot shipped with the package (an input of the data
    step, so that a changed snapshot replans it)."""
    return Path(str(resources.files("tracin_study.resources") / SNAPSHOT))


def split_sizes(n_rows: int, test_fraction: float) -> tuple[int, int]:
    """Numbers of training and test rows of `data.split_rows`: the test split has
    round(n_rows * test_fraction) rows."""
    n_test = round(n_rows * test_fraction)
    return n_rows - n_test, n_test
