#include "g.h"
#include "f.h"
int a() { return f(); }
