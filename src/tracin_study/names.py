"""Names for people of the study's code names (recipes, scores, sets of houses, retraining
protocols, methods, facts): one place, so that the report's prose, tables and figures use
the same words."""

RECIPE_WORDS = {
    "default": "our default recipe",
    "closest": "the closest recipe",
    "minmax": "min-max scaled features",
    "raw_features": "unscaled features",
    "ordered_split": "the last 20% of rows as the test split",
}

SCORE_NAMES = {
    "self_influence_all_layers": "self-influence, all layers",
    "self_influence_last_layer": "self-influence, last layer",
    "summed_loss": "summed training loss",
    "final_loss": "final training loss",
}

LDS_WORDS = {
    "raw": "raw TracInCP",
    "adam": "Adam-preconditioned TracInCP",
    "last_layer": "raw TracInCP, last layer only",
    "raw_all_checkpoints": "raw TracInCP, every saved checkpoint",
    "summed_training_loss": "summed training loss (not TracIn)",
}

PROTOCOL_WORDS = {"fixed_order": "same batch order", "new_order": "new batch order"}

SET_WORDS = {
    "aggregate_proponents": "aggregate proponents",
    "aggregate_opponents": "aggregate opponents",
    "house_proponents": "the house's own proponents",
    "house_opponents": "the house's own opponents",
    "map_neighbours": "map neighbours",
}

SCORE_WORDS = {"raw": "raw TracInCP", "adam": "Adam-preconditioned TracInCP", "": "none"}

OPTIMISER_WORDS = {"sgd": "SGD", "adam": "Adam"}

CHAIN_WORDS = {
    "first_order": "first-order TracIn",
    "tracin_cp": "TracInCP",
    "first_order_adam": "first-order, Adam-aware",
    "first_order_raw": "first-order, raw (the paper's formula)",
}

METRIC_WORDS = {"pearson": "Pearson", "spearman": "Spearman", "top_k_overlap": "top-k overlap"}

VARIANT_WORDS = {
    "all_layers_all_checkpoints": "all layers, every saved checkpoint",
    "last_layer_paper_checkpoints": "last layer only, the paper's checkpoints",
}

SCOPE_WORDS = {
    "self_influence": "self-influence",
    "test_point": "each Palo Alto house",
    "test_total": "the Palo Alto houses together",
}

HOUSE_WORDS = {
    "proponents": "aggregate proponents",
    "opponents": "aggregate opponents",
    "map_neighbours": "map neighbours",
    "feature_neighbours": "nearest in feature space",
    "random_bay_area": "random Bay Area houses",
    "all_training": "all training houses",
}

FACT_WORDS = {
    "split": "split",
    "architecture": "architecture",
    "optimiser": "optimiser",
    "loss": "loss",
    "epochs": "epochs",
    "checkpoints": "checkpoints for TracInCP",
    "train_explained_variance": "explained variance, training split",
    "test_explained_variance": "explained variance, test split",
    "palo_alto": "Palo Alto houses",
    "not_given": "not given by the paper",
}


def words(name: str) -> str:
    """A code name without underscores, for names no table lists."""
    return name.replace("_", " ")


def name_for(table: dict[str, str], name: str) -> str:
    """`name` in words from `table` (one of the dicts above), else without underscores."""
    return table.get(name, words(name))
