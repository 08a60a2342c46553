"""heart_fl: the fedlite course's heart-disease federation as a Flower App (see README.md)."""
