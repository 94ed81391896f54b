#pragma once
// Reading a whole file. The failure says which step failed and the errno, so that every caller keeps its
// own wording ("<path>: Permission denied", "cannot read token file <path>: ...", ...).

#include "util/error_kind.hpp"
#include "util/fd.hpp"

#include <cstddef>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <utility>

namespace meshlink::util {

struct ReadFileOptions {
    // Refuse anything but a regular file (directory, FIFO, device) before reading. The file is then opened
    // with O_NONBLOCK, so a FIFO planted where a file belongs cannot hang the reader.
    bool regular_only = false;
    // A file with more bytes is refused (FileError::Step::too_large) once that many have been read; sizes
    // reported by stat are not trusted (procfs and sysfs report 0).
    std::size_t limit = std::numeric_limits<std::size_t>::max();
};

// Why a file could not be read.
struct FileError {
    enum class Step { open, stat, not_regular, read, too_large };
    Step step = Step::open;
    int number = 0;        // errno of the failed call; EISDIR for a refused directory; else 0
    std::size_t limit = 0; // for too_large

    // not_found when the file does not exist, io for everything else.
    [[nodiscard]] ErrorKind kind() const;
    // strerror(number), or "not a regular file", or "larger than <limit> bytes".
    [[nodiscard]] std::string reason() const;
};

// The value or the FileError, used like std::expected (`if (!r)`, `*r`, `r.error()`). Not std::expected
// itself: probe/ reads files through here and clang compiles probe/ for the fuzzer, and clang cannot use
// libstdc++ 12's <expected> (CONTRIBUTING.md).
template <typename T>
class FileResult {
public:
    FileResult(T value) : m_value(std::move(value)) {} // NOLINT: converting, like std::expected
    FileResult(FileError error) : m_error(error) {}    // NOLINT
    explicit operator bool() const noexcept { return m_value.has_value(); }
    [[nodiscard]] bool has_value() const noexcept { return m_value.has_value(); }
    T& operator*() & { return *m_value; }
    const T& operator*() const& { return *m_value; }
    T&& operator*() && { return std::move(*m_value); }
    T* operator->() { return &*m_value; }
    const T* operator->() const { return &*m_value; }
    [[nodiscard]] const FileError& error() const noexcept { return m_error; }

private:
    std::optional<T> m_value;
    FileError m_error;
};

// Opens `path` for reading (O_CLOEXEC, and with options.regular_only O_NONBLOCK|O_NOCTTY plus the type
// check), for readers that decode while they read.
FileResult<Fd> open_for_reading(const std::filesystem::path& path, const ReadFileOptions& options = {});

// The whole content of `path`.
FileResult<std::string> read_file(const std::filesystem::path& path, const ReadFileOptions& options = {});

} // namespace meshlink::util
