"""What each course dataset is: files, checksums, sources, licenses, sizes.

This module only *describes* the datasets; :mod:`fedlite.datasets.download` fetches
and checks the files, :mod:`fedlite.datasets.readers` turns them into
:class:`fedlite.data.Data`, and :mod:`fedlite.datasets` ties it together.

The sizes and class counts below were measured on the official files (see
``tests/test_datasets.py``, which re-measures them) and are also what the
offline synthetic twin (:mod:`fedlite.datasets.synthetic`) reproduces.
"""

from __future__ import annotations

from dataclasses import dataclass

MEDMNIST_URL = "https://zenodo.org/records/10519652/files"
UCI_HEART_URL = "https://archive.ics.uci.edu/ml/machine-learning-databases/heart-disease"
MEDMNIST_CITATION = (
    "Yang J, Shi R, Wei D, Liu Z, Zhao L, Ke B, Pfister H, Ni B. MedMNIST v2 - A large-scale "
    "lightweight benchmark for 2D and 3D biomedical image classification. "
    "Scientific Data 10, 41 (2023). doi:10.1038/s41597-022-01721-8")

HOSPITALS = ("cleveland", "hungarian", "switzerland", "va")


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset: its name, official MD5 and publisher URL."""

    name: str
    md5: str
    url: str
    size: int  # bytes


@dataclass(frozen=True)
class DatasetInfo:
    """Metadata of one dataset.

    ``subdir`` is the folder inside the data directory that holds ``files``
    (the same layout as the shared read-only copy). ``class_counts`` maps each
    split (for ``heart_disease``: ``"hospital/split"``) to its per-class counts,
    so ``sum(class_counts[s])`` is the size of split ``s``.
    """

    name: str
    description: str
    subdir: str
    files: tuple[FileSpec, ...]
    classes: tuple[str, ...]
    class_counts: dict[str, tuple[int, ...]]
    homepage: str
    license: str
    citation: str
    notes: str = ""

    def sizes(self) -> dict[str, int]:
        """Number of samples in each split, e.g. ``{"train": 4708, ...}``."""
        return {split: sum(counts) for split, counts in self.class_counts.items()}


def _medmnist_file(name: str, md5: str, size: int) -> tuple[FileSpec, ...]:
    return (FileSpec(f"{name}.npz", md5, f"{MEDMNIST_URL}/{name}.npz", size),)


def _heart_files() -> tuple[FileSpec, ...]:
    md5 = {"cleveland": ("2d91a8ff69cfd9616aa47b59d6f843db", 18461),
           "hungarian": ("22e96bee155b5973568101c93b3705f6", 10263),
           "switzerland": ("9a87f7577310b3917730d06ba9349e20", 4109),
           "va": ("4249d03ca7711e84f4444768c9426170", 6737)}
    return tuple(FileSpec(f"processed.{h}.data", md5[h][0],
                          f"{UCI_HEART_URL}/processed.{h}.data", md5[h][1]) for h in HOSPITALS)


DATASETS: dict[str, DatasetInfo] = {
    "pneumoniamnist": DatasetInfo(
        name="pneumoniamnist",
        description="Paediatric chest X-rays, 1x28x28 grey, normal (0) vs pneumonia (1). "
                    "MedMNIST v2.",
        subdir="medmnist",
        files=_medmnist_file("pneumoniamnist", "28209eda62fecd6e6a2d98b1501bb15f", 4170669),
        classes=("normal", "pneumonia"),
        class_counts={"train": (1214, 3494), "val": (135, 389), "test": (234, 390)},
        homepage="https://medmnist.com",
        license="CC BY 4.0",
        citation=MEDMNIST_CITATION + "; source data: Kermany DS et al., Identifying medical "
                 "diagnoses and treatable diseases by image-based deep learning, "
                 "Cell 172(5), 2018.",
    ),
    "breastmnist": DatasetInfo(
        name="breastmnist",
        description="Breast ultrasound, 1x28x28 grey, malignant (0) vs normal+benign (1). "
                    "MedMNIST v2.",
        subdir="medmnist",
        files=_medmnist_file("breastmnist", "750601b1f35ba3300ea97c75c52ff8f6", 559580),
        classes=("malignant", "normal+benign"),
        class_counts={"train": (147, 399), "val": (21, 57), "test": (42, 114)},
        homepage="https://medmnist.com",
        license="CC BY 4.0",
        citation=MEDMNIST_CITATION + "; source data: Al-Dhabyani W et al., Dataset of breast "
                 "ultrasound images, Data in Brief 28, 104863, 2020.",
    ),
    "heart_disease": DatasetInfo(
        name="heart_disease",
        description="UCI Heart Disease, 4 hospitals (Cleveland, Hungarian, Switzerland, VA Long "
                    "Beach), 13 tabular features, no disease (0) vs disease (1). FLamby's "
                    "Fed-Heart-Disease preprocessing.",
        subdir="uci_heart_disease",
        files=_heart_files(),
        classes=("no disease", "disease"),
        class_counts={
            "cleveland/train": (108, 91), "cleveland/test": (56, 48),
            "hungarian/train": (107, 65), "hungarian/test": (56, 33),
            "switzerland/train": (0, 30), "switzerland/test": (1, 15),
            "va/train": (19, 66), "va/test": (10, 35),
        },
        homepage="https://archive.ics.uci.edu/dataset/45/heart+disease",
        license="CC BY 4.0",
        citation="Janosi A, Steinbrunn W, Pfisterer M, Detrano R. Heart Disease [Dataset]. UCI "
                 "Machine Learning Repository (1988). doi:10.24432/C52P4X. Split and "
                 "preprocessing: Ogier du Terrail J et al., FLamby, NeurIPS Datasets and "
                 "Benchmarks 2022.",
    ),
    "breast_cancer_wisconsin": DatasetInfo(
        name="breast_cancer_wisconsin",
        description="Breast Cancer Wisconsin (Diagnostic): 569 tumours x 30 features from "
                    "fine-needle aspirate images, malignant (0) vs benign (1). Ships with "
                    "scikit-learn, so it works offline.",
        subdir="",
        files=(),
        classes=("malignant", "benign"),
        class_counts={"train": (148, 250), "test": (64, 107)},
        homepage="https://archive.ics.uci.edu/dataset/17/breast+cancer+wisconsin+diagnostic",
        license="CC BY 4.0",
        citation="Wolberg W, Mangasarian O, Street N, Street W. Breast Cancer Wisconsin "
                 "(Diagnostic) [Dataset]. UCI Machine Learning Repository (1993). "
                 "doi:10.24432/C5DW2B",
        notes="Loaded with sklearn.datasets.load_breast_cancer; no download needed.",
    ),
}


def get_info(name: str) -> DatasetInfo:
    """The :class:`DatasetInfo` of ``name``; ``ValueError`` listing the known names if unknown."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known datasets are: "
                         f"{', '.join(sorted(DATASETS))}")
    return DATASETS[name]
