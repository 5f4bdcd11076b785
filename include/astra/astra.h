/*
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The astra-alerts plugin SDK: everything a delivery plugin may use.
 */

#pragma once

#define __ASTRA_INSIDE__

#include "astra-error.h"
#include "astra-event.h"
#include "astra-json.h"
#include "astra-macros.h"
#include "astra-plugin.h"
#include "astra-request.h"
#include "astra-signer.h"

#undef __ASTRA_INSIDE__
