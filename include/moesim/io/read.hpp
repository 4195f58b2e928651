#pragma once
// Serial readers for moesim output files: open read-only without MPI-IO, read one dataset or
// attribute whole, close. For `moesim inspect`, tests that check written bytes against closed
// forms, and tools. Not for bulk data in a parallel run.

#include <cstdint>
#include <string>
#include <vector>

namespace moesim::io {

/// A dataset read whole: its current shape (empty for a scalar) and its values, row-major.
template <class T> struct Array {
    std::vector<std::uint64_t> shape;
    std::vector<T> values;
};

/// The current shape of dataset `dataset` of file `path` (empty for a scalar). Local; throws
/// IoError if the file or dataset cannot be opened.
std::vector<std::uint64_t> dataset_shape(const std::string& path, const std::string& dataset);

/// Reads dataset `dataset` of file `path`, converted to float64. Local; throws IoError if the
/// file or dataset cannot be opened or read, or its values are not numbers.
Array<double> read_float64(const std::string& path, const std::string& dataset);

/// Reads rows [first_row, first_row + n_rows) of frame `frame` of a series value dataset
/// value[T][N][row...] (float64), row-major. Each rank of a restart reads only its own rows.
/// Local; throws IoError if the file, dataset, frame or rows do not exist.
std::vector<double> read_float64_rows(const std::string& path, const std::string& dataset,
                                      std::uint64_t frame, std::uint64_t first_row,
                                      std::uint64_t n_rows);

/// Reads dataset `dataset` of file `path`, converted to int64. Local; throws IoError.
Array<std::int64_t> read_int64(const std::string& path, const std::string& dataset);

/// Reads a scalar string dataset (fixed or variable length), e.g. "/config". Local; throws
/// IoError.
std::string read_string(const std::string& path, const std::string& dataset);

/// Reads attribute `name` of object `object` ("/" for the root) as text: strings as they are,
/// numbers formatted, arrays as "[a, b]". Local; throws IoError.
std::string read_attribute_text(const std::string& path, const std::string& object,
                                const std::string& name);

} // namespace moesim::io
