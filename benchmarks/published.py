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
