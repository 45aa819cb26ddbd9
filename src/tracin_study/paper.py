"""What the paper (Pruthi et al., NeurIPS 2020) states about its California-housing
experiment, as numbers, each with its source: the one place the study takes them from.

`FACTS` lists them for display, each value as the paper words it (and what it leaves out).
"""

from dataclasses import dataclass

CA_SECTION = "paper, California housing section, p. 8 and its footnote"

TEST_FRACTION = 0.2  # "8:2" train/test split
HIDDEN_LAYERS = 3
PARAMETERS = 168_000  # "about 168K"
OPTIMISER = "Adam"
LOSS = "mean squared error"
EPOCHS = 200
CHECKPOINT_EVERY = 20  # epochs: "every 20th epoch"
TRAIN_EXPLAINED_VARIANCE = 0.72
TEST_EXPLAINED_VARIANCE = 0.70
EXPLAINED_VARIANCE = {"train": TRAIN_EXPLAINED_VARIANCE, "test": TEST_EXPLAINED_VARIANCE}
PALO_ALTO_HOUSES = 11


@dataclass(frozen=True)
class Fact:
    """One fact the paper states (or leaves out): `value` as the paper words it, its
    `source` and our `note`."""

    name: str
    value: str
    source: str
    note: str = ""


_TRAIN_PARTS = round((1 - TEST_FRACTION) * 10)
FACTS = (
    Fact(
        "split",
        f"{_TRAIN_PARTS}:{round(TEST_FRACTION * 10)} train/test split",
        CA_SECTION,
    ),
    Fact(
        "architecture",
        f"{HIDDEN_LAYERS} hidden layers, about {PARAMETERS // 1000}K parameters",
        CA_SECTION,
        "one independent reproduction quotes 162K; the widths are not given, we use "
        "[512, 256, 128] (168,961 parameters)",
    ),
    Fact("optimiser", OPTIMISER, CA_SECTION),
    Fact("loss", LOSS, CA_SECTION),
    Fact("epochs", f"{EPOCHS}", CA_SECTION),
    Fact("checkpoints", f"every {CHECKPOINT_EVERY}th epoch", CA_SECTION),
    Fact("train_explained_variance", f"{TRAIN_EXPLAINED_VARIANCE:.2f}", CA_SECTION),
    Fact("test_explained_variance", f"{TEST_EXPLAINED_VARIANCE:.2f}", CA_SECTION),
    Fact(
        "palo_alto",
        f"{PALO_ALTO_HOUSES} houses in Palo Alto; their proponents are expensive houses",
        CA_SECTION,
    ),
    Fact(
        "not_given",
        "batch size, layer widths, preprocessing, learning rate",
        CA_SECTION,
        "our choices are in config/config.yaml",
    ),
)


# Where each claim of the study comes from: the section above, or our reading of the paper.
SELF_INFLUENCE_READING = (
    "our reading of the paper's general account of self-influence (high self-influence as "
    "memorisation of rare or mislabelled examples; sections on self-influence and on "
    "mislabelled-data detection), not a statement of the California-housing section"
)
REMOVAL_READING = (
    "our counterfactual test of the paper's definition of a proponent (a training example "
    "whose steps reduce the test loss), not a statement of the paper"
)
SHORT_SOURCES = {
    CA_SECTION: "paper, p. 8",
    SELF_INFLUENCE_READING: "our reading of the paper",
    REMOVAL_READING: "our counterfactual test",
}
