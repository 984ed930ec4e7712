package io.tunesmith.client;

import java.util.Map;

/**
 * One answer (label, score, probabilities ... as the task gives them) with the version that
 * answered and the request id to send feedback for.
 */
public record Prediction(Map<String, Object> answer, String version, String requestId) {
    /** The label of a classifier's answer (null for tasks without one). */
    public String label() {
        Object label = answer.get("label");
        return label == null ? null : label.toString();
    }

    /** The score of the answer (null when the task gives none). */
    public Double score() {
        Object score = answer.get("score");
        return score instanceof Number n ? n.doubleValue() : null;
    }
}
