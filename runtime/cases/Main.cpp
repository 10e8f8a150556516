// The case runner's main, alone in its object file: a program with its own main links the
// rest of scopeprof::cases without a second one, and calls scopeprof::runCases itself.
#include <scopeprof/cases.h>

int main(int Argc, char **Argv) { return scopeprof::runCases(Argc, Argv); }
