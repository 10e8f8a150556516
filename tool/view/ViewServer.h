// The viewer's HTTP server: the embedded page and its JSON requests, on the loopback only.
#pragma once

#include "ViewData.h"

#include <functional>

namespace scopeprof::view {

/// Listens on 127.0.0.1:\p Port (0: a free port the system picks), calls \p Listening with
/// the port, then answers requests one at a time until the process is stopped. Throws
/// db::InputError when the port cannot be had.
void serve(ViewData &Data, int64_t DefaultRun, int Port, const std::function<void(int)> &Listening);

} // namespace scopeprof::view
