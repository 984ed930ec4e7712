package io.tunesmith.client;

import java.util.List;
import java.util.Map;

/**
 * The reply of POST /v1/answer. {@code status}: "answered" (the knowledge base's answer),
 * "handed_over" (below the confidence threshold: a person takes over) or "refused" (the safety
 * filter); {@code answer} is what to send the customer in every case.
 */
public record KnowledgeAnswer(
        String status,
        String answer,
        Double confidence,
        Double threshold,
        List<Map<String, Object>> candidates,
        List<Map<String, Object>> filtered,
        String version,
        String requestId) {
    public boolean handedOver() {
        return "handed_over".equals(status);
    }
}
