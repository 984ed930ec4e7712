package io.tunesmith.client;

/** The server refused a request (any 4xx but 429, or retries ran out): the message is its reason. */
public class TunesmithException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;

    public TunesmithException(int status, String message) {
        super(status + ": " + message);
        this.status = status;
    }

    /** The HTTP status, or 0 when the server could not be reached. */
    public int status() {
        return status;
    }
}
