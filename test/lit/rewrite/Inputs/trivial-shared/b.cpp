#include "box.h"
std::size_t b() { Box<std::string> B; return B.ref().size() + B.copy().size() + B.same("x") + B.size(); }
