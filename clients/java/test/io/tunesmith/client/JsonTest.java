package io.tunesmith.client;

import java.util.List;
import java.util.Map;

/** Checks of the JSON reader and writer and of error messages; run with {@code java -ea}. */
public final class JsonTest {
    private JsonTest() {}

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    private static void refused(String text, String expected) {
        try {
            Json.parse(text);
        } catch (IllegalArgumentException error) {
            check(error.getMessage().contains(expected), error.getMessage());
            return;
        }
        throw new AssertionError("accepted " + text);
    }

    public static void main(String[] args) {
        Object value = Json.parse(" {\"a\": [1, -2.5e-3, true, null, \"密码\\n\\u00e9\\\"\"], \"b\": {}} ");
        Map<?, ?> map = (Map<?, ?>) value;
        List<?> a = (List<?>) map.get("a");
        check(a.get(0).equals(1L) && a.get(1).equals(-0.0025) && a.get(2).equals(true), a.toString());
        check(a.get(3) == null && a.get(4).equals("密码\né\""), a.toString());
        check(((Map<?, ?>) map.get("b")).isEmpty(), "empty object");
        String written = Json.write(value);
        check(written.equals("{\"a\":[1,-0.0025,true,null,\"密码\\né\\\"\"],\"b\":{}}"), written);
        check(Json.parse(written).equals(value), "round trip");
        check(Json.parse("12345678901234567890").equals(1.2345678901234567e19), "a number beyond long");
        refused("{\"a\" 1}", "offset 5: expected ':'");
        refused("[1, 2", "unexpected end");
        refused("\"open", "unterminated string");
        refused("{} x", "text after the JSON value");
        refused("[01x]", "expected ','");
        check(TunesmithClient.message("{\"error\": \"invalid request\", \"details\": [\"text: empty\"]}")
                .equals("invalid request (text: empty)"), "error message with details");
        check(TunesmithClient.message("<html>bad gateway</html>").equals("<html>bad gateway</html>"), "plain body");
        System.out.println("JsonTest: all checks passed");
    }
}
