import pandas as pd

from tracin_study.experiments.toy import mean_self_influence


def test_the_mean_is_per_seed():
    tables = {
        0: pd.DataFrame({"self_influence": [1.0, 3.0]}),
        1: pd.DataFrame({"self_influence": [5.0]}),
    }
    assert mean_self_influence(tables).to_dict() == {0: 2.0, 1: 5.0}
