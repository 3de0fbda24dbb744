#pragma once
// capsim-torch commands use the shared self-registration of capsim_common.
#include "capsim/common/cli_registry.hpp"
