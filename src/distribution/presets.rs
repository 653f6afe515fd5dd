//! Token-length presets fitted from the Azure LLM inference traces (2023).
//!
//! Source: `AzureLLMInferenceTrace_conv.csv` and `AzureLLMInferenceTrace_code.csv` from
//! <https://github.com/Azure/AzurePublicDataset> (files last changed in commit
//! 790921015d50dd6aae7f7e47f39ba0e235ad6b08), one hour of requests each, collected
//! 2023-11-16. Licence: CC-BY-4.0 (Microsoft Azure); attribution: Patel et al., "Splitwise:
//! Efficient Generative LLM Inference Using Phase Splitting", ISCA 2024. Only derived
//! quantiles are included here, not the trace itself.
//!
//! How the tables were made: `python3 scripts/token_presets.py` (reads the CSVs from
//! `../shared/data/azure_llm_2023/`, rewrites this file). Each table holds the empirical
//! quantiles at 0, 0.5, 1, ..., 99.5, 100 % (201 values): the exact order statistic
//! `sorted[round(q × (n − 1))]` of the column (`ContextTokens` = input, `GeneratedTokens` =
//! output).
//!
//! Sampling a table by inverse transform with linear interpolation between adjacent
//! quantiles (u ~ U(0, 1), 200 equal-probability segments) gives a distribution whose mean
//! is the average over the segments of (q_i + q_{i+1}) / 2; its median and p99 are the
//! table entries at 50 % and 99 %. File vs table:
//!
//! | column | rows | file mean | table mean | file median | table median | file p99 | table p99 | max |
//! |---|---|---|---|---|---|---|---|---|
//! | conv input (`ContextTokens`) | 19,366 | 1154.7 | 1173.9 | 1,020 | 1,020 | 4,142 | 4,142 | 14,050 |
//! | conv output (`GeneratedTokens`) | 19,366 | 211.1 | 211.2 | 129 | 129 | 601 | 601 | 1,000 |
//! | code input (`ContextTokens`) | 8,819 | 2047.8 | 2048.3 | 1,469 | 1,469 | 7,436 | 7,436 | 7,437 |
//! | code output (`GeneratedTokens`) | 8,819 | 27.9 | 30.4 | 13 | 13 | 252 | 252 | 1,899 |
//!
//! The table's tail above the 99.5 % quantile is one linear segment up to the file's
//! maximum, so the table mean can differ slightly from the file mean (see above).

/// Number of entries in every quantile table (0 % to 100 % in steps of 0.5 %).
pub const QUANTILE_POINTS: usize = 201;

/// Azure conversation trace (2023), input tokens (`ContextTokens`): quantiles at 0, 0.5, ..., 100 %.
///
/// Source column: 19,366 rows, mean 1154.7, median 1,020, p99 4,142, min 2, max 14,050.
/// Mean when sampled with linear interpolation: 1173.9.
/// Ten values a row: row r holds the quantiles at 5r, 5r + 0.5, ..., 5r + 4.5 %.
#[rustfmt::skip]
pub const AZURE_CONV_INPUT_QUANTILES: [u32; 201] = [
    2, 17, 29, 58, 91, 120, 161, 174, 181, 181,
    181, 181, 191, 194, 197, 200, 201, 203, 203, 206,
    207, 209, 212, 215, 222, 235, 242, 298, 317, 369,
    372, 373, 375, 376, 378, 379, 381, 382, 384, 385,
    387, 388, 390, 391, 392, 393, 394, 394, 395, 396,
    396, 397, 398, 398, 399, 400, 400, 401, 402, 402,
    403, 404, 405, 406, 406, 407, 408, 409, 411, 412,
    414, 417, 419, 421, 424, 428, 433, 440, 456, 530,
    703, 791, 863, 884, 903, 922, 946, 960, 972, 979,
    984, 989, 994, 998, 1002, 1005, 1009, 1012, 1014, 1018,
    1020, 1023, 1025, 1028, 1031, 1034, 1036, 1039, 1041, 1043,
    1045, 1048, 1050, 1053, 1055, 1058, 1060, 1063, 1065, 1068,
    1071, 1073, 1076, 1078, 1081, 1083, 1086, 1089, 1092, 1094,
    1097, 1100, 1102, 1106, 1109, 1112, 1116, 1118, 1122, 1126,
    1130, 1135, 1139, 1143, 1147, 1153, 1159, 1165, 1171, 1181,
    1189, 1201, 1214, 1231, 1249, 1277, 1311, 1313, 1314, 1314,
    1315, 1317, 1321, 1350, 1368, 1434, 1508, 1604, 1690, 1785,
    1876, 1970, 2032, 2135, 2221, 2309, 2401, 2480, 2584, 2613,
    2734, 2918, 3291, 3789, 4073, 4075, 4076, 4078, 4079, 4081,
    4083, 4084, 4086, 4088, 4090, 4092, 4098, 4110, 4142, 4831,
    14050,
];

/// Azure conversation trace (2023), output tokens (`GeneratedTokens`): quantiles at 0, 0.5, ..., 100 %.
///
/// Source column: 19,366 rows, mean 211.1, median 129, p99 601, min 7, max 1,000.
/// Mean when sampled with linear interpolation: 211.2.
/// Ten values a row: row r holds the quantiles at 5r, 5r + 0.5, ..., 5r + 4.5 %.
#[rustfmt::skip]
pub const AZURE_CONV_OUTPUT_QUANTILES: [u32; 201] = [
    7, 14, 16, 18, 24, 28, 32, 36, 38, 40,
    41, 43, 44, 46, 47, 48, 49, 50, 52, 53,
    54, 56, 57, 58, 59, 60, 62, 63, 64, 66,
    67, 68, 69, 70, 71, 72, 73, 74, 75, 76,
    77, 78, 79, 80, 81, 82, 82, 83, 84, 84,
    85, 86, 86, 87, 87, 88, 89, 89, 90, 90,
    91, 91, 92, 92, 93, 93, 94, 94, 95, 95,
    96, 97, 97, 98, 99, 99, 100, 101, 101, 102,
    103, 104, 105, 106, 107, 108, 108, 110, 110, 112,
    113, 114, 116, 117, 118, 120, 122, 124, 125, 127,
    129, 131, 133, 135, 137, 139, 141, 143, 145, 148,
    151, 153, 156, 159, 161, 162, 163, 167, 169, 172,
    177, 179, 182, 184, 190, 195, 202, 207, 216, 217,
    217, 219, 237, 296, 371, 373, 375, 376, 378, 382,
    384, 385, 387, 388, 390, 391, 393, 393, 394, 394,
    395, 396, 396, 396, 396, 396, 397, 397, 398, 399,
    400, 401, 402, 403, 404, 406, 407, 409, 410, 411,
    411, 413, 414, 414, 415, 416, 417, 419, 420, 421,
    424, 426, 428, 429, 429, 430, 433, 438, 442, 446,
    451, 460, 468, 490, 509, 522, 540, 571, 601, 643,
    1000,
];

/// Azure code trace (2023), input tokens (`ContextTokens`): quantiles at 0, 0.5, ..., 100 %.
///
/// Source column: 8,819 rows, mean 2047.8, median 1,469, p99 7,436, min 3, max 7,437.
/// Mean when sampled with linear interpolation: 2048.3.
/// Ten values a row: row r holds the quantiles at 5r, 5r + 0.5, ..., 5r + 4.5 %.
#[rustfmt::skip]
pub const AZURE_CODE_INPUT_QUANTILES: [u32; 201] = [
    3, 12, 17, 24, 35, 44, 50, 56, 62, 68,
    75, 81, 88, 92, 97, 102, 109, 122, 130, 139,
    147, 152, 162, 173, 179, 185, 193, 199, 209, 222,
    232, 243, 253, 263, 283, 299, 319, 337, 352, 367,
    386, 395, 423, 445, 469, 484, 501, 521, 539, 555,
    578, 592, 604, 627, 651, 679, 698, 720, 745, 759,
    770, 786, 816, 833, 848, 863, 880, 895, 908, 919,
    938, 952, 969, 985, 997, 1016, 1027, 1037, 1049, 1059,
    1075, 1088, 1105, 1118, 1133, 1153, 1174, 1188, 1205, 1229,
    1261, 1278, 1296, 1323, 1346, 1370, 1377, 1393, 1417, 1451,
    1469, 1481, 1500, 1528, 1555, 1585, 1600, 1623, 1642, 1667,
    1690, 1702, 1724, 1745, 1774, 1798, 1823, 1849, 1874, 1888,
    1909, 1926, 1964, 2002, 2024, 2048, 2077, 2096, 2128, 2144,
    2164, 2187, 2226, 2255, 2284, 2305, 2329, 2358, 2386, 2417,
    2433, 2454, 2480, 2513, 2546, 2578, 2615, 2646, 2670, 2705,
    2745, 2777, 2805, 2844, 2896, 2942, 2975, 3016, 3066, 3132,
    3192, 3231, 3295, 3353, 3452, 3538, 3599, 3640, 3714, 3811,
    3919, 4034, 4107, 4228, 4320, 4434, 4559, 4678, 4759, 4918,
    5186, 5473, 5631, 5820, 5961, 6097, 6194, 6397, 6585, 6965,
    7302, 7418, 7430, 7435, 7435, 7435, 7436, 7436, 7436, 7436,
    7437,
];

/// Azure code trace (2023), output tokens (`GeneratedTokens`): quantiles at 0, 0.5, ..., 100 %.
///
/// Source column: 8,819 rows, mean 27.9, median 13, p99 252, min 6, max 1,899.
/// Mean when sampled with linear interpolation: 30.4.
/// Ten values a row: row r holds the quantiles at 5r, 5r + 0.5, ..., 5r + 4.5 %.
#[rustfmt::skip]
pub const AZURE_CODE_OUTPUT_QUANTILES: [u32; 201] = [
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 8, 8, 8, 8, 8, 8, 8, 8, 8,
    8, 8, 8, 9, 9, 9, 9, 9, 9, 9,
    9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
    9, 10, 10, 10, 10, 10, 10, 10, 10, 10,
    10, 10, 10, 11, 11, 11, 11, 11, 11, 11,
    11, 11, 11, 11, 12, 12, 12, 12, 12, 12,
    12, 12, 12, 12, 13, 13, 13, 13, 13, 13,
    13, 13, 13, 13, 13, 14, 14, 14, 14, 14,
    14, 14, 14, 15, 15, 15, 15, 15, 15, 15,
    16, 16, 16, 16, 16, 16, 17, 17, 17, 17,
    18, 18, 18, 18, 19, 19, 19, 19, 19, 20,
    20, 20, 21, 21, 21, 22, 22, 22, 23, 23,
    24, 24, 25, 25, 26, 26, 27, 27, 28, 28,
    29, 30, 31, 31, 32, 33, 34, 35, 37, 37,
    39, 40, 42, 43, 45, 46, 48, 49, 52, 53,
    55, 57, 59, 62, 65, 69, 72, 76, 79, 84,
    90, 97, 105, 115, 128, 145, 172, 201, 252, 361,
    1899,
];
