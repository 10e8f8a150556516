#include "common.h"
int b() { return shared(2); }
