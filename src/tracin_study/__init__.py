"""TracIn (Pruthi et al., 2020) reproduced on the California housing data."""
