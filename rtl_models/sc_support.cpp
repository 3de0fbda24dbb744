// Keeps capsim_rtl_sc non-empty while blocks add their SC_MODULE wrappers under <block>/sc/.
#include <systemc>
