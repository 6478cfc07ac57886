/*
 * Three functions of newer C and C++ runtimes, for Debian 12 (glibc 2.36, libstdc++ of GCC 12).
 *
 * The Linux addon that @jazzer.js/fuzzer ships (prebuilds/fuzzer-linux-x64.node) was built
 * with GCC 13 against glibc 2.38. Three of its imports do not exist on this host, and they
 * are all it lacks (fuzz/setup/jazzer-addon.ts checks that before using this file):
 *
 *  - __isoc23_strtol and __isoc23_strtoul (GLIBC_2.38): what strtol/strtoul become in a C23
 *    build. C23 (7.24.1.7) changes one thing: with base 0 or 2 the subject sequence may start
 *    with 0b or 0B before binary digits. Everything else is the C17 function, which is called.
 *  - std::ios_base_library_init() (GLIBCXX_3.4.32): since GCC 13 a translation unit that
 *    includes <iostream> references this function instead of constructing its own
 *    std::ios_base::Init, and libstdc++ 13 initialises the standard streams itself. The
 *    libstdc++ of GCC 12 does not, so this library constructs the std::ios_base::Init object
 *    (what every such translation unit did before GCC 13); being a dependency of the addon,
 *    its initialiser runs before the addon's.
 *
 * fuzz/setup/jazzer-addon.ts builds this into a shared library beside the addon and points a
 * copy of the addon at it.
 */
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <ios>

namespace {

std::ios_base::Init standard_streams;

/* The digits after a binary prefix (after white space and an optional sign), or nullptr. */
const char *binary_digits(const char *nptr, int base, bool *negative) {
  if (base != 0 && base != 2) return nullptr;
  const char *p = nptr;
  while (std::isspace(static_cast<unsigned char>(*p))) p++;
  *negative = false;
  if (*p == '+' || *p == '-') *negative = *p++ == '-';
  if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B') && (p[2] == '0' || p[2] == '1')) return p + 2;
  return nullptr;
}

}  // namespace

namespace std {
void ios_base_library_init() {}
}  // namespace std

extern "C" unsigned long __isoc23_strtoul(const char *nptr, char **endptr, int base) {
  bool negative;
  const char *digits = binary_digits(nptr, base, &negative);
  if (!digits) return std::strtoul(nptr, endptr, base);
  // The digits begin with 0 or 1, so strtoul sees no sign or white space of its own.
  int saved = errno;
  errno = 0;
  unsigned long magnitude = std::strtoul(digits, endptr, 2);
  if (errno == ERANGE) return ULONG_MAX;
  errno = saved;
  return negative ? -magnitude : magnitude;
}

extern "C" long __isoc23_strtol(const char *nptr, char **endptr, int base) {
  bool negative;
  const char *digits = binary_digits(nptr, base, &negative);
  if (!digits) return std::strtol(nptr, endptr, base);
  int saved = errno;
  errno = 0;
  unsigned long magnitude = std::strtoul(digits, endptr, 2);
  bool overflow = errno == ERANGE;
  errno = saved;
  if (!negative) {
    if (overflow || magnitude > static_cast<unsigned long>(LONG_MAX)) {
      errno = ERANGE;
      return LONG_MAX;
    }
    return static_cast<long>(magnitude);
  }
  if (overflow || magnitude > static_cast<unsigned long>(LONG_MAX) + 1) {
    errno = ERANGE;
    return LONG_MIN;
  }
  return magnitude == 0 ? 0 : -static_cast<long>(magnitude - 1) - 1;
}
