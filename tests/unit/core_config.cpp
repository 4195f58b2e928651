#include "moesim/core/config.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using moesim::core::Config;
using moesim::core::ConfigError;
using moesim::core::InternalError;
using moesim::core::resolve_config;
using moesim::core::Schema;

namespace {

Schema test_schema() {
    Schema schema;
    schema.string("run.experiment", "mfld", {"mfld", "moe"}, "experiment to run")
        .integer("run.seed", 42, 0, std::numeric_limits<std::int64_t>::max(), "random seed")
        .string("run.out", "out.h5", {}, "output file")
        .boolean("run.force", false, "overwrite an existing output")
        .integer("mfld.n_particles", 1024, 1, 1048576, "number of particles")
        .real("mfld.eta", 0.1, 0.0, 1.0, "step size")
        .string("mfld.activation", "tanh", {"tanh", "relu"}, "activation function")
        .integer_array("mfld.widths", {16, 16}, 1, 4096, 1, "hidden layer widths")
        .real_array("mfld.weights", {0.5, 0.5}, 0.0, 1.0, 0, "mixture weights");
    return schema;
}

Config resolve(const Schema& schema, std::optional<std::string_view> text,
               std::vector<std::string> overrides = {}) {
    return resolve_config(schema, text, "cfg.toml", overrides);
}

/// The ConfigError that resolving `text` with `overrides` throws (fails the test if none).
ConfigError resolve_error(std::optional<std::string_view> text,
                          std::vector<std::string> overrides = {}) {
    try {
        resolve(test_schema(), text, std::move(overrides));
    } catch (const ConfigError& error) {
        return error;
    }
    FAIL("expected a ConfigError");
    throw; // unreachable: FAIL throws
}

void check_error(const ConfigError& error, const std::string& source, int line, int column,
                 const std::string& message) {
    CHECK(error.where().source == source);
    CHECK(error.where().line == line);
    CHECK(error.where().column == column);
    CHECK(std::string(error.what()) == message);
    CHECK(error.exit_code() == 2);
}

} // namespace

TEST_SUITE("core::config") {

    TEST_CASE("without a file or overrides every key has its default") {
        const Config config = resolve(test_schema(), std::nullopt);
        CHECK(config.string("run.experiment") == "mfld");
        CHECK(config.integer("run.seed") == 42);
        CHECK(config.string("run.out") == "out.h5");
        CHECK(config.boolean("run.force") == false);
        CHECK(config.integer("mfld.n_particles") == 1024);
        CHECK(config.real("mfld.eta") == 0.1);
        CHECK(config.integer_array("mfld.widths") == std::vector<std::int64_t>{16, 16});
        CHECK(config.real_array("mfld.weights") == std::vector<double>{0.5, 0.5});
        CHECK(config.origin("mfld.eta") == "<default>");
    }

    TEST_CASE("overrides beat the file, which beats the defaults") {
        const std::string text = "[mfld]\n"
                                 "n_particles = 64\n"
                                 "eta = 0.5\n";
        const Config config =
            resolve(test_schema(), text, {"mfld.eta=0.25", "run.seed = 7", "run.seed=8"});
        CHECK(config.integer("mfld.n_particles") == 64);
        CHECK(config.origin("mfld.n_particles") == "cfg.toml:2:15");
        CHECK(config.real("mfld.eta") == 0.25);
        CHECK(config.origin("mfld.eta") == "--set");
        CHECK(config.integer("run.seed") == 8); // the last --set of a key wins
        CHECK(config.origin("run.seed") == "--set");
        CHECK(config.string("mfld.activation") == "tanh");
        CHECK(config.origin("mfld.activation") == "<default>");
    }

    TEST_CASE("an integer is accepted for a real key") {
        const Config config = resolve(test_schema(), "[mfld]\neta = 1\n", {});
        CHECK(config.real("mfld.eta") == 1.0);
        const Config from_set = resolve(test_schema(), std::nullopt, {"mfld.eta=0"});
        CHECK(from_set.real("mfld.eta") == 0.0);
    }

    TEST_CASE("a value of the wrong type names its line and column") {
        SUBCASE("float for an integer key") {
            check_error(resolve_error("[mfld]\nn_particles = 3.0\n"), "cfg.toml", 2, 15,
                        "cfg.toml:2:15: key 'mfld.n_particles': expected integer, got float 3.0");
        }
        SUBCASE("string for an integer key") {
            check_error(resolve_error("[mfld]\n\nn_particles = \"abc\"\n"), "cfg.toml", 3, 15,
                        "cfg.toml:3:15: key 'mfld.n_particles': expected integer, got string "
                        "\"abc\"");
        }
        SUBCASE("integer for a string key") {
            check_error(resolve_error("[run]\nout = 5\n"), "cfg.toml", 2, 7,
                        "cfg.toml:2:7: key 'run.out': expected string, got integer 5");
        }
        SUBCASE("string for a boolean key") {
            check_error(resolve_error("[run]\nforce = \"yes\"\n"), "cfg.toml", 2, 9,
                        "cfg.toml:2:9: key 'run.force': expected boolean, got string \"yes\"");
        }
        SUBCASE("boolean for a real key") {
            check_error(resolve_error("[mfld]\neta = true\n"), "cfg.toml", 2, 7,
                        "cfg.toml:2:7: key 'mfld.eta': expected real, got boolean true");
        }
    }

    TEST_CASE("a value out of range names the range") {
        check_error(resolve_error("[mfld]\nn_particles = 0\n"), "cfg.toml", 2, 15,
                    "cfg.toml:2:15: key 'mfld.n_particles': value 0 is out of range [1, 1048576]");
        check_error(resolve_error("[mfld]\neta = 1.5\n"), "cfg.toml", 2, 7,
                    "cfg.toml:2:7: key 'mfld.eta': value 1.5 is out of range [0, 1]");
        check_error(resolve_error("[run]\nseed = -1\n"), "cfg.toml", 2, 8,
                    "cfg.toml:2:8: key 'run.seed': value -1 is out of range [0, "
                    "9223372036854775807]");
    }

    TEST_CASE("nan and inf are out of a finite range") {
        CHECK(resolve_error("[mfld]\neta = nan\n").where().line == 2);
        CHECK(resolve_error("[mfld]\neta = inf\n").where().column == 7);
        CHECK(
            std::string(resolve_error({}, {"mfld.eta=-inf"}).what()) ==
            "--set: key 'mfld.eta': value -inf is out of range [0, 1] (in --set 'mfld.eta=-inf')");
    }

    TEST_CASE("a string outside its choices lists the choices") {
        check_error(resolve_error("[mfld]\nactivation = \"foo\"\n"), "cfg.toml", 2, 14,
                    "cfg.toml:2:14: key 'mfld.activation': value 'foo' is not one of: tanh, relu");
    }

    TEST_CASE("an unknown key is an error that suggests the closest known key") {
        check_error(resolve_error("[mfld]\neta = 0.5\n  n_particle = 10\n"), "cfg.toml", 3, 3,
                    "cfg.toml:3:3: key 'mfld.n_particle': unknown key; did you mean "
                    "'n_particles'?");
        SUBCASE("no suggestion when nothing is close") {
            check_error(resolve_error("[mfld]\nlearning_rate = 0.5\n"), "cfg.toml", 2, 1,
                        "cfg.toml:2:1: key 'mfld.learning_rate': unknown key");
        }
        SUBCASE("the same name in another table is suggested") {
            check_error(resolve_error("[mfld]\nseed = 1\n"), "cfg.toml", 2, 1,
                        "cfg.toml:2:1: key 'mfld.seed': unknown key; did you mean 'run.seed'?");
        }
        SUBCASE("a table nested inside a section is an unknown key") {
            check_error(resolve_error("[mfld]\neta = 0.5\n[mfld.solver]\nx = 1\n"), "cfg.toml", 3,
                        7, "cfg.toml:3:7: key 'mfld.solver': unknown key");
        }
        SUBCASE("the first unknown key in the text is reported, not the first by name") {
            check_error(resolve_error("[mfld]\nzeta = 1\nalpha = 2\n"), "cfg.toml", 2, 1,
                        "cfg.toml:2:1: key 'mfld.zeta': unknown key; did you mean 'eta'?");
        }
    }

    TEST_CASE("an unknown table is an error listing the known tables") {
        check_error(resolve_error("[run]\nseed = 1\n\n[mfd]\neta = 0.5\n"), "cfg.toml", 4, 2,
                    "cfg.toml:4:2: unknown table [mfd]; known tables: [run], [mfld]; did you mean "
                    "[mfld]?");
        check_error(resolve_error("[[optimizer]]\nx = 1\n"), "cfg.toml", 1, 3,
                    "cfg.toml:1:3: unknown table [optimizer]; known tables: [run], [mfld]");
    }

    TEST_CASE("a key outside any table is an error") {
        check_error(
            resolve_error("seed = 3\n"), "cfg.toml", 1, 1,
            "cfg.toml:1:1: key 'seed': key outside any table; did you mean 'run.seed' under "
            "[run]?");
        check_error(resolve_error("run = 3\n"), "cfg.toml", 1, 7,
                    "cfg.toml:1:7: key 'run': expected table [run], got integer 3");
    }

    TEST_CASE("a TOML syntax error names its line and column") {
        const ConfigError error = resolve_error("[run]\nseed = 1\nout = \"a\" \"b\"\n");
        CHECK(error.where().source == "cfg.toml");
        CHECK(error.where().line == 3);
        CHECK(error.where().column > 0);
        CHECK(error.key().empty());
        CHECK(std::string(error.what()).starts_with("cfg.toml:3:"));
        SUBCASE("a duplicate key") {
            CHECK(resolve_error("[run]\nseed = 1\nseed = 2\n").where().line == 3);
        }
    }

    TEST_CASE("malformed input is a ConfigError, not a crash") {
        SUBCASE("non-UTF-8 bytes in a string") {
            check_error(resolve_error("[run]\nout = \"\xff\xfe\"\n"), "cfg.toml", 2, 8,
                        "cfg.toml:2:8: invalid UTF-8 byte 0xFF");
        }
        SUBCASE("non-UTF-8 bytes in a key, after multi-byte characters") {
            check_error(resolve_error("[run]\n# \xc3\xa9t\xc3\xa9\n\xc3\x28 = 1\n"), "cfg.toml", 3,
                        1, "cfg.toml:3:1: invalid UTF-8 byte 0xC3");
            check_error(resolve_error("# \xc3\xa9\xed\xa0\x80\n"), "cfg.toml", 1, 4,
                        "cfg.toml:1:4: invalid UTF-8 byte 0xED"); // an encoded surrogate
        }
        SUBCASE("a file truncated inside a string") {
            CHECK(resolve_error("[mfld]\nactivation = \"re").where().line == 2);
        }
        SUBCASE("a file truncated after '='") {
            CHECK(resolve_error("[mfld]\neta =").where().line == 2);
        }
        SUBCASE("a file truncated inside a table header") {
            CHECK(resolve_error("[mfl").where().line == 1);
        }
        SUBCASE("a NUL byte") {
            CHECK(resolve_error(std::string_view("[run]\nseed = 1\0", 15)).where().line == 2);
        }
    }

    TEST_CASE("arrays are checked element by element") {
        SUBCASE("a real array accepts integers") {
            const Config config = resolve(test_schema(), "[mfld]\nweights = [0, 1, 0.5]\n");
            CHECK(config.real_array("mfld.weights") == std::vector<double>{0.0, 1.0, 0.5});
        }
        SUBCASE("an empty array is fine when min_length is 0") {
            const Config config = resolve(test_schema(), "[mfld]\nweights = []\n");
            CHECK(config.real_array("mfld.weights").empty());
        }
        SUBCASE("an integer array rejects a float, naming the element") {
            check_error(
                resolve_error("[mfld]\nwidths = [8, 2.5]\n"), "cfg.toml", 2, 14,
                "cfg.toml:2:14: key 'mfld.widths': element [1]: expected integer, got float "
                "2.5");
        }
        SUBCASE("an element out of range") {
            check_error(resolve_error("[mfld]\nweights = [0.5,\n  2.0]\n"), "cfg.toml", 3, 3,
                        "cfg.toml:3:3: key 'mfld.weights': element [1]: value 2.0 is out of range "
                        "[0, 1]");
        }
        SUBCASE("an empty array below min_length") {
            check_error(resolve_error("[mfld]\nwidths = []\n"), "cfg.toml", 2, 10,
                        "cfg.toml:2:10: key 'mfld.widths': array has 0 elements, expected at least "
                        "1");
        }
        SUBCASE("a scalar where an array is expected") {
            check_error(resolve_error("[mfld]\nwidths = 8\n"), "cfg.toml", 2, 10,
                        "cfg.toml:2:10: key 'mfld.widths': expected array of integers, got integer "
                        "8");
        }
        SUBCASE("an array set from the command line") {
            const Config config = resolve(test_schema(), std::nullopt, {"mfld.widths=[4, 8, 16]"});
            CHECK(config.integer_array("mfld.widths") == std::vector<std::int64_t>{4, 8, 16});
        }
    }

    TEST_CASE("a string array takes distinct strings from its choices") {
        Schema schema;
        schema.string("run.experiment", "misspec", {}, "experiment")
            .string_array("misspec.methods", {"em", "hard"}, {"em", "hard"}, 1, "fits to run");
        const Config defaults = resolve(schema, std::nullopt);
        CHECK(defaults.string_array("misspec.methods") == std::vector<std::string>{"em", "hard"});
        CHECK(
            resolve(schema, "[misspec]\nmethods = [\"hard\"]\n").string_array("misspec.methods") ==
            std::vector<std::string>{"hard"});
        CHECK(resolve(schema, std::nullopt, {"misspec.methods=[\"em\"]"})
                  .string_array("misspec.methods") == std::vector<std::string>{"em"});
        auto error = [&](std::string_view text) {
            try {
                resolve(schema, text);
            } catch (const ConfigError& e) {
                return std::string(e.what());
            }
            return std::string("no error");
        };
        CHECK(error("[misspec]\nmethods = [\"em\", \"soft\"]\n") ==
              "cfg.toml:2:18: key 'misspec.methods': element [1]: value 'soft' is not one of: "
              "em, hard");
        CHECK(error("[misspec]\nmethods = [\"em\", \"em\"]\n") ==
              "cfg.toml:2:11: key 'misspec.methods': element [1]: 'em' is listed twice");
        CHECK(error("[misspec]\nmethods = []\n") ==
              "cfg.toml:2:11: key 'misspec.methods': array has 0 elements, expected at least 1");
        CHECK(error("[misspec]\nmethods = [1]\n") ==
              "cfg.toml:2:12: key 'misspec.methods': element [0]: expected string, got integer 1");
        // Printed and commented configs parse back to the same values.
        const Config one = resolve(schema, "[misspec]\nmethods = [\"hard\"]\n");
        CHECK(resolve(schema, one.to_toml()).string_array("misspec.methods") ==
              std::vector<std::string>{"hard"});
        CHECK(resolve(schema, schema.commented_defaults()).string_array("misspec.methods") ==
              std::vector<std::string>{"em", "hard"});
    }

    TEST_CASE("malformed --set overrides name the override text") {
        SUBCASE("no '='") {
            check_error(resolve_error({}, {"mfld.eta"}), "--set", 0, 0,
                        "--set: 'mfld.eta' is not of the form section.key=value");
        }
        SUBCASE("an empty key") {
            check_error(resolve_error({}, {" =3"}), "--set", 0, 0,
                        "--set: ' =3' has an empty key; expected section.key=value");
        }
        SUBCASE("an unknown key") {
            check_error(resolve_error({}, {"mfld.etaa=0.5"}), "--set", 0, 0,
                        "--set: key 'mfld.etaa': unknown key in --set 'mfld.etaa=0.5'; did you "
                        "mean 'eta'?");
            check_error(resolve_error({}, {"seed=1"}), "--set", 0, 0,
                        "--set: key 'seed': unknown key in --set 'seed=1'");
        }
        SUBCASE("a value that is not TOML") {
            check_error(resolve_error({}, {"mfld.eta=fast"}), "--set", 0, 0,
                        "--set: key 'mfld.eta': value 'fast' is not valid TOML for real (in --set "
                        "'mfld.eta=fast')");
            check_error(resolve_error({}, {"mfld.n_particles="}), "--set", 0, 0,
                        "--set: key 'mfld.n_particles': value '' is not valid TOML for integer (in "
                        "--set 'mfld.n_particles=')");
        }
        SUBCASE("a value of the wrong type") {
            check_error(resolve_error({}, {"mfld.n_particles=2.5"}), "--set", 0, 0,
                        "--set: key 'mfld.n_particles': expected integer, got float 2.5 (in --set "
                        "'mfld.n_particles=2.5')");
        }
        SUBCASE("a value that smuggles in a second key") {
            check_error(resolve_error({}, {"mfld.n_particles=1\nx = 2"}), "--set", 0, 0,
                        "--set: key 'mfld.n_particles': value '1\nx = 2' is not valid TOML for "
                        "integer (in --set 'mfld.n_particles=1\nx = 2')");
        }
        SUBCASE("an unterminated quoted string") {
            check_error(resolve_error({}, {"run.out=\"a.h5"}), "--set", 0, 0,
                        "--set: key 'run.out': value \"a.h5 is not a valid TOML string (in --set "
                        "'run.out=\"a.h5')");
        }
        SUBCASE("a string outside its choices") {
            check_error(resolve_error({}, {"mfld.activation=gelu"}), "--set", 0, 0,
                        "--set: key 'mfld.activation': value 'gelu' is not one of: tanh, relu (in "
                        "--set 'mfld.activation=gelu')");
        }
        SUBCASE("a raw string that is not UTF-8") {
            CHECK(resolve_error({}, {"run.out=\xff.h5"}).where().source == "--set");
        }
    }

    TEST_CASE("a string key takes a bare word, a quoted TOML string, or the raw text") {
        const Config config = resolve(
            test_schema(), std::nullopt,
            {"mfld.activation=relu", "run.out=\"a \\\"b\\\".h5\"", "run.experiment = moe "});
        CHECK(config.string("mfld.activation") == "relu");
        CHECK(config.string("run.out") == "a \"b\".h5");
        CHECK(config.string("run.experiment") == "moe");
        CHECK(resolve(test_schema(), std::nullopt, {"run.out=2024"}).string("run.out") == "2024");
        CHECK(resolve(test_schema(), std::nullopt, {"run.out=a=b"}).string("run.out") == "a=b");
    }

    TEST_CASE("to_toml prints tables in schema order and parses back to the same values") {
        const Schema schema = test_schema();
        const std::string text = "[mfld]\n"
                                 "eta = 1e-300\n"
                                 "weights = [0.1, 2e-308, 1, 0.30000000000000004]\n"
                                 "[run]\n"
                                 "out = \"quote \\\" back \\\\ tab \\t nl \\n bell \\u0007 é\"\n"
                                 "seed = 9223372036854775807\n";
        const Config config = resolve(schema, text, {"mfld.widths=[1, 4096]"});
        const std::string printed = config.to_toml();
        CHECK(printed == "[run]\n"
                         "experiment = \"mfld\"\n"
                         "seed = 9223372036854775807\n"
                         "out = \"quote \\\" back \\\\ tab \\t nl \\n bell \\u0007 é\"\n"
                         "force = false\n"
                         "\n"
                         "[mfld]\n"
                         "n_particles = 1024\n"
                         "eta = 1e-300\n"
                         "activation = \"tanh\"\n"
                         "widths = [1, 4096]\n"
                         "weights = [0.1, 2e-308, 1.0, 0.30000000000000004]\n");

        const Config again = resolve_config(schema, printed, "config.toml", {});
        CHECK(again.to_toml() == printed);
        CHECK(again.string("run.out") == "quote \" back \\ tab \t nl \n bell \a é");
        CHECK(again.real("mfld.eta") == 1e-300);
        CHECK(again.real_array("mfld.weights") == config.real_array("mfld.weights"));
        CHECK(again.integer("run.seed") == std::numeric_limits<std::int64_t>::max());
    }

    TEST_CASE("to_toml keeps whole-number reals as TOML floats") {
        Schema schema;
        schema.real("a.x", 2.0, -1e308, 1e308, "x")
            .real("a.y", -0.0, -1.0, 1.0, "y")
            .real("a.z", 1e300, 0.0, std::numeric_limits<double>::infinity(), "z")
            .real("a.tiny", 5e-324, 0.0, 1.0, "smallest subnormal");
        const Config config = resolve(schema, std::nullopt, {"a.z=inf"});
        const std::string printed = config.to_toml();
        CHECK(printed == "[a]\nx = 2.0\ny = -0.0\nz = inf\ntiny = 5e-324\n");
        const Config again = resolve(schema, printed);
        CHECK(again.real("a.x") == 2.0);
        CHECK(std::signbit(again.real("a.y")));
        CHECK(std::isinf(again.real("a.z")));
        CHECK(again.real("a.tiny") == 5e-324);
    }

    TEST_CASE("commented_defaults documents every key and parses back to the defaults") {
        const Schema schema = test_schema();
        const std::string text = schema.commented_defaults();
        CHECK(text == "[run]\n"
                      "# experiment to run (one of: mfld, moe)\n"
                      "experiment = \"mfld\"\n"
                      "# random seed (integer in [0, 9223372036854775807])\n"
                      "seed = 42\n"
                      "# output file (string)\n"
                      "out = \"out.h5\"\n"
                      "# overwrite an existing output (true or false)\n"
                      "force = false\n"
                      "\n"
                      "[mfld]\n"
                      "# number of particles (integer in [1, 1048576])\n"
                      "n_particles = 1024\n"
                      "# step size (real in [0, 1])\n"
                      "eta = 0.1\n"
                      "# activation function (one of: tanh, relu)\n"
                      "activation = \"tanh\"\n"
                      "# hidden layer widths (array of integers in [1, 4096], at least 1 element)\n"
                      "widths = [16, 16]\n"
                      "# mixture weights (array of reals in [0, 1])\n"
                      "weights = [0.5, 0.5]\n");
        const Config from_text = resolve(schema, text);
        CHECK(from_text.to_toml() == resolve(schema, std::nullopt).to_toml());
        CHECK(from_text.origin("run.seed") == "cfg.toml:5:8");
    }

    TEST_CASE("peek_string reads one key from the file and overrides") {
        using moesim::core::peek_string;
        const std::string text = "[run]\nexperiment = \"moe\"\nseed = 3\n";
        const std::vector<std::string> none;
        CHECK(peek_string(text, "cfg.toml", none, "run.experiment") == "moe");
        CHECK(peek_string(text, "cfg.toml", none, "run.out") == std::nullopt);
        CHECK(peek_string(std::nullopt, "cfg.toml", none, "run.experiment") == std::nullopt);

        const std::vector<std::string> overrides = {"run.experiment=mfld", "mfld.eta=x",
                                                    "run.experiment=\"last\"", "malformed"};
        CHECK(peek_string(text, "cfg.toml", overrides, "run.experiment") == "last");
        CHECK(peek_string(std::nullopt, "", overrides, "run.experiment") == "last");

        SUBCASE("a key that is not a string") {
            try {
                peek_string(text, "cfg.toml", none, "run.seed");
                FAIL("expected a ConfigError");
            } catch (const ConfigError& error) {
                check_error(error, "cfg.toml", 3, 8,
                            "cfg.toml:3:8: key 'run.seed': expected string, got integer 3");
            }
        }
        SUBCASE("a syntax error even when the key is overridden") {
            try {
                peek_string("[run\n", "cfg.toml", overrides, "run.experiment");
                FAIL("expected a ConfigError");
            } catch (const ConfigError& error) {
                CHECK(error.where().line == 1);
                CHECK(error.where().source == "cfg.toml");
            }
        }
    }

    TEST_CASE("getters of the wrong kind or of unknown keys are internal errors") {
        const Config config = resolve(test_schema(), std::nullopt);
        CHECK_THROWS_AS(config.integer("mfld.eta"), InternalError);
        CHECK_THROWS_AS(config.real("mfld.n_particles"), InternalError);
        CHECK_THROWS_AS(config.string("mfld.nope"), InternalError);
        CHECK_THROWS_AS(config.origin("mfld.nope"), InternalError);
        CHECK_THROWS_WITH(
            config.boolean("mfld.eta"),
            doctest::Contains("config key 'mfld.eta' is read as boolean but is real"));
    }

    TEST_CASE("schema mistakes are internal errors") {
        Schema schema;
        schema.integer("run.steps", 10, 1, 100, "steps");
        CHECK_THROWS_AS(schema.integer("run.steps", 10, 1, 100, "again"), InternalError);
        CHECK_THROWS_AS(schema.integer("steps", 10, 1, 100, "no section"), InternalError);
        CHECK_THROWS_AS(schema.integer("run.a.b", 10, 1, 100, "two dots"), InternalError);
        CHECK_THROWS_AS(schema.integer("run.", 10, 1, 100, "empty name"), InternalError);
        CHECK_THROWS_AS(schema.integer("run.x", 0, 1, 100, "default below min"), InternalError);
        CHECK_THROWS_AS(schema.real("run.y", 2.0, 0.0, 1.0, "default above max"), InternalError);
        CHECK_THROWS_AS(schema.real("run.y", std::nan(""), 0.0, 1.0, "NaN default"), InternalError);
        CHECK_THROWS_AS(schema.string("run.s", "c", {"a", "b"}, "not a choice"), InternalError);
        CHECK_THROWS_AS(schema.integer_array("run.v", {}, 0, 9, 1, "too short"), InternalError);
        CHECK_THROWS_AS(schema.real_array("run.w", {0.5, 7.0}, 0.0, 1.0, 0, "out of range"),
                        InternalError);
        CHECK_THROWS_AS(schema.boolean("run.b", true, "two\nlines"), InternalError);
        CHECK(schema.keys().size() == 1);
        CHECK(schema.find("run.steps") != nullptr);
        CHECK(schema.find("run.x") == nullptr);
    }

} // TEST_SUITE
