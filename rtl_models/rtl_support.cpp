// Keeps capsim_rtl non-empty while blocks add their models under <block>/src/.
