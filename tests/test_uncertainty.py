"""Uncertainty scores with known answers."""

import math

import numpy as np
import pytest

from tunesmith.annotate.uncertainty import most_uncertain_first, uncertainty
from tunesmith.tasks.classification import softmax


def test_known_values() -> None:
    p = np.array([[0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0], [0.5, 0.3, 0.2, 0.0]])
    assert uncertainty(p, "entropy") == pytest.approx(
        [math.log(4), 0.0, -(0.5 * math.log(0.5) + 0.3 * math.log(0.3) + 0.2 * math.log(0.2))], abs=1e-9
    )
    assert uncertainty(p, "margin") == pytest.approx([1.0, 0.0, 0.8])
    assert uncertainty(p, "least_confidence") == pytest.approx([0.75, 0.0, 0.5])
    assert list(most_uncertain_first(p, "margin")) == [0, 2, 1]
    assert np.allclose(softmax(np.array([[0.0, 0.0], [1000.0, 0.0]])), [[0.5, 0.5], [1.0, 0.0]])
