#include "f.h"
int b();
