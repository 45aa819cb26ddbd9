import torch

from tracin_study.model import build_mlp, count_parameters


def test_paper_model_has_about_168k_parameters_in_three_hidden_layers():
    model = build_mlp()
    assert count_parameters(model) == 168_961
    assert sum(isinstance(m, torch.nn.Linear) for m in model) == 4
    assert model(torch.zeros(3, 8)).shape == (3, 1)


def test_bad_widths_are_refused_with_the_values():
    import pytest

    with pytest.raises(ValueError, match=r"hidden=\[4, 0\]"):
        build_mlp(8, (4, 0))
