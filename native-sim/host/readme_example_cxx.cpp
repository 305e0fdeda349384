// The README example compiled as C++ (warnings as errors).
#include "readme_example.c"
