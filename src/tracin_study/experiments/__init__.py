"""The study's experiments, built on the library (data, model, training, checkpoints, influence).

- `seed_influence`: TracInCP self-influence and Palo Alto proponents of one trained seed.
- `checkpoint_ablation`: the paper's 10 checkpoints against all saved ones, last layer
  against all layers, on the main models.
- `approximation_chain`: ideal SGD -> first-order TracIn -> TracInCP on a small run.
- `corruption`: detection of corrupted targets by self-influence.
- `removal`: retraining without the Palo Alto proponents (or baselines) and the change in
  the test houses' loss.
- `sweep`: training recipes changing one factor each, and the recipe and epoch whose
  explained variances are closest to the paper's, on which the claims are rerun.
"""
