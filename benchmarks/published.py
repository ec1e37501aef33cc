"""Published figures printed beside ours. Sources: ../shared/datasets/*/SOURCE.txt and the papers named."""

from __future__ import annotations

CLINC150_SOURCE = "Larson et al., EMNLP 2019, Table 2 (Full): in-scope accuracy / out-of-scope recall, %"
CLINC150_THRESHOLD = {  # a probability threshold, no out-of-scope training data
    "BERT": (96.2, 52.3),
    "MLP": (93.4, 49.1),
    "CNN": (90.9, 30.9),
    "Rasa": (90.9, 31.2),
    "DialogFlow": (90.8, 26.7),
    "FastText": (88.6, 28.3),
    "SVM": (88.2, 18.0),
}
CLINC150_OOS_TRAIN = {  # out-of-scope as a 151st intent trained on oos_train
    "BERT": (96.9, 40.3),
    "MLP": (93.5, 47.4),
    "DialogFlow": (91.7, 14.0),
    "Rasa": (91.5, 45.3),
    "CNN": (91.2, 18.9),
    "SVM": (91.0, 14.5),
    "FastText": (89.0, 9.7),
}

OPEN_INTENT_SOURCE = (
    "Zhang, Xu and Lin, Deep Open Intent Classification with Adaptive Decision Boundary, AAAI 2021, Table 2 and "
    "github.com/thuiar/Adaptive-Decision-Boundary: BANKING, 75% known intents, accuracy / macro-F1 over known "
    "intents plus the open class, %"
)
OPEN_INTENT_BANKING_75 = {
    "MSP": (75.89, 83.60),
    "DOC": (76.77, 83.34),
    "OpenMax": (77.45, 84.07),
    "DeepUnk": (78.52, 84.31),
    "ADB": (81.08, 85.96),
}

BANKING77_SOURCE = "../shared/MODELS.md, measured on this machine: BANKING77 test accuracy, %"
BANKING77_BASELINES = {
    "TF-IDF word+char n-grams + LR": 91.6,
    "MiniLM frozen + LR": 92.95,
    "e5-small frozen + LR": 92.1,
    "MiniLM + e5-small frozen + LR": 93.4,
}

DISCOVERY_SOURCE = (
    "TEXTOIR toolkit tables (Zhang et al., ACL 2021 demo; github.com/thuiar/TEXTOIR, "
    "open_intent_discovery/results/result.md), unsupervised rows (known intent ratio 0, cluster count given = the "
    "true count): NMI / ARI / ACC, %. USNID: Zhang, Xu, Wang, Long and Gao, A Clustering Framework for "
    "Unsupervised and Semi-supervised New Intent Discovery, IEEE TKDE 2023 (arXiv 2304.07699). TEXTOIR's CLINC "
    "split is its own (150 intents, 2,250 test texts), not data_full's 4,500 in-scope test texts"
)
DISCOVERY_UNSUPERVISED = {  # method → (NMI, ARI, ACC)
    "banking77": {
        "KM": (49.30, 13.04, 28.62),
        "AG": (53.28, 14.65, 31.62),
        "SAE-KM": (59.80, 23.59, 37.07),
        "DEC": (62.66, 25.32, 38.60),
        "DCN": (62.72, 25.36, 38.59),
        "CC": (44.89, 9.75, 21.51),
        "SCCL": (63.89, 26.98, 40.54),
        "USNID": (75.30, 43.33, 54.82),
    },
    "clinc150": {
        "KM": (71.05, 27.72, 45.76),
        "AG": (72.21, 27.05, 44.12),
        "SAE-KM": (73.77, 31.58, 47.15),
        "DEC": (74.83, 31.71, 48.77),
        "DCN": (74.77, 31.68, 48.69),
        "CC": (65.79, 18.00, 32.69),
        "SCCL": (79.35, 38.14, 50.44),
        "USNID": (91.00, 68.54, 75.87),
    },
}
