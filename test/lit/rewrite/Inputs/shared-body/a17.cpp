#include "version.hpp"
bool older(const Version &A, const Version &B);
bool older(const Version &A, const Version &B) { return A < B; }
