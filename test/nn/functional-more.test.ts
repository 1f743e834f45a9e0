/**
 * The `tg.F` activations, losses, normalisations, dropout2d, conv1d, convTranspose2d and
 * interpolate: values and gradients against PyTorch 1.13, float64 gradient checks, bad input.
 */
import { describe, expect, it } from "vitest";
import * as tg from "../../src/index.js";
import { expectClose } from "../helpers/allclose.js";
import { gradcheck } from "../helpers/gradcheck.js";

const F = tg.F;
const T = (v: number[][]) => tg.tensor(v);
/** sin(k·0, k·1, …) in float32 reshaped: deterministic inputs both here and in torch. */
const det = (shape: readonly number[], k: number) =>
  tg
    .arange(shape.reduce((a, b) => a * b, 1))
    .mul(k)
    .sin()
    .reshape(shape);

/** Values and gradients as PyTorch 1.13 gives them (float32), from the scripts quoted by each group. */
// prettier-ignore
const REF = {
  elu: { y: [-0.98168439, -0.95021296, -0.77686983, -0.39346933, 0.0, 0.5, 1.0, 3.0, 6.0, 7.0], dx: [0.018315639, 0.049787067, 0.22313017, 0.60653067, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] },
  eluAlpha2: { y: [-1.9633688, -1.9004259, -1.5537397, -0.78693867, 0.0, 0.5, 1.0, 3.0, 6.0, 7.0], dx: [0.036631279, 0.099574134, 0.44626033, 1.2130613, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0] },
  selu: { y: [-1.7258986, -1.6705687, -1.3658143, -0.69175816, 0.0, 0.52535051, 1.050701, 3.1521029, 6.3042059, 7.354907], dx: [0.032200713, 0.087530605, 0.39228499, 1.0663412, 1.7580993, 1.050701, 1.050701, 1.050701, 1.050701, 1.050701] },
  celu: { y: [-0.49983227, -0.49876061, -0.47510648, -0.31606027, 0.0, 0.5, 1.0, 3.0, 6.0, 7.0], dx: [0.00033546262, 0.0024787523, 0.049787067, 0.36787945, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] },
  mish: { y: [-0.072591752, -0.14564747, -0.29809976, -0.22074376, 0.0, 0.37524524, 0.86509836, 2.9865351, 5.9999266, 6.9999886], dx: [-0.053773206, -0.093393125, -0.064097814, 0.28951064, 0.60000002, 0.88642442, 1.0490363, 1.021107, 1.000134, 1.0000217] },
  hardtanh: { y: [-1.0, -1.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.0, 1.0, 1.0], dx: [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0] },
  hardtanhWide: { y: [-3.0, -3.0, -1.5, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 6.0], dx: [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0] },
  relu6: { y: [0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 3.0, 6.0, 6.0], dx: [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0] },
  hardsigmoid: { y: [0.0, 0.0, 0.25, 0.41666666, 0.5, 0.58333331, 0.66666669, 1.0, 1.0, 1.0], dx: [0.0, 0.0, 0.16666667, 0.16666667, 0.16666667, 0.16666667, 0.16666667, 0.0, 0.0, 0.0] },
  hardswish: { y: [-0.0, -0.0, -0.375, -0.20833333, 0.0, 0.29166666, 0.66666669, 3.0, 6.0, 7.0], dx: [0.0, -0.5, 0.0, 0.33333331, 0.5, 0.66666669, 0.83333337, 1.5, 1.0, 1.0] },
  prelu: { y: [-1.0, -0.75, 0.75, 0.25, 0.0, 0.5], dx: [0.25, 0.5, -1.5, -2.0, 10.0, 6.0], dw: [-10.0, -6.5, 0.0] },
  l1: { none: [0.0, 1.0, 2.0, 1.0, 2.5, 0.25], mean: 1.125, sum: 6.75, dNone: [0.0, -2.0, 3.0, -4.0, 5.0, -6.0], dMean: [0.0, -0.16666667, 0.16666667, -0.16666667, 0.16666667, -0.16666667] },
  smoothL1: { none: [0.0, 0.5, 1.5, 0.5, 2.0, 0.03125], mean: 0.75520831, sum: 4.53125, dNone: [0.0, -2.0, 3.0, -4.0, 5.0, -1.5], dMean: [0.0, -0.16666667, 0.16666667, -0.16666667, 0.16666667, -0.041666668] },
  smoothL1Beta2: { none: [0.0, 0.25, 1.0, 0.25, 1.5, 0.015625], mean: 0.50260419, sum: 3.015625, dNone: [0.0, -1.0, 3.0, -2.0, 5.0, -0.75], dMean: [0.0, -0.083333336, 0.16666667, -0.083333336, 0.16666667, -0.020833334] },
  smoothL1Beta0: { none: [0.0, 1.0, 2.0, 1.0, 2.5, 0.25], mean: 1.125, sum: 6.75, dNone: [-1.0, -2.0, 3.0, -4.0, 5.0, -6.0], dMean: [-0.16666667, -0.16666667, 0.16666667, -0.16666667, 0.16666667, -0.16666667] },
  huber: { none: [0.0, 0.5, 1.5, 0.5, 2.0, 0.03125], mean: 0.75520831, sum: 4.53125, dNone: [0.0, -2.0, 3.0, -4.0, 5.0, -1.5], dMean: [0.0, -0.16666667, 0.16666667, -0.16666667, 0.16666667, -0.041666668] },
  huberDelta2: { none: [0.0, 0.5, 2.0, 0.5, 3.0, 0.03125], mean: 1.0052084, sum: 6.03125, dNone: [0.0, -2.0, 6.0, -4.0, 10.0, -1.5], dMean: [0.0, -0.16666667, 0.33333334, -0.16666667, 0.33333334, -0.041666668] },
  klDiv: { none: [-0.12689619, 0.0, 0.36145073, -0.19339569, 0.10501537, 0.23001534], dNone: [-0.2, -0.0, -2.4000001, -2.0, -1.25, -1.5], mean: 0.062698267, dMean: [-0.033333335, -0.0, -0.13333334, -0.083333336, -0.041666668, -0.041666668], sum: 0.37618959, dSum: [-0.2, -0.0, -0.80000001, -0.5, -0.25, -0.25], batchmean: 0.18809479, dBatchmean: [-0.1, -0.0, -0.40000001, -0.25, -0.125, -0.125] },
  klInput: [-0.97495693, -2.1749568, -0.67495692, -0.3063558, -1.8063558, -2.3063557],
  klTarget: [0.2, 0.0, 0.80000001, 0.5, 0.25, 0.25],
  klDTarget: [0.36551899, NaN, 1.4518135, 0.61320865, 1.4200615, 1.9200613],
  klLogTarget: { target: [-1.6094379, -2.3025851, -0.35667497, -0.69314718, -1.3862944, -1.3862944], batchmean: 0.11238668, dInput: [-0.099999994, -0.049999997, -0.34999999, -0.25, -0.125, -0.125] },
  groupNorm: { y: [-0.18656413, 0.96038103, 1.239341, 0.31960231, -0.31725064, -0.70893061, 1.6775695, 0.42730713, -0.80280697, 2.263694, 0.49728128, -2.2568359, -1.4373507, -1.1396341, -0.057822883, 0.59469551, 0.70474774, 0.31796068, 0.7494778, 1.4373306, 1.1239815, 0.0068623261, 2.0590873, 2.4556298], dx: [-0.24350159, 1.3259699, -0.47161269, -0.85719341, 0.051871791, 0.19446583, 0.78122544, 1.1447543, -0.7094686, 2.0174391, -2.6318972, -0.60205293, 1.0837871, -0.37781605, -1.3859166, 0.33985242, 0.72721469, -0.3871215, 1.5490074, -0.040287405, 0.09238518, -2.3150785, -1.3022946, 2.016268], dw: [-0.62138122, -0.94736868, 0.9906885, 1.1419188], db: [0.65548134, 1.0194786, 0.11519974, -0.93239176] },
  rmsNorm: { y: [0.0, 1.615986, 2.4832067, 1.2260034, -1.3138089, -2.7711835, -1.9223998, 0.033327296, 1.1096311, 0.80281007, 0.14881365, -0.032878567, -1.3203031, -1.4249893, 0.07771825, 2.0902028, 2.5989242, 1.0195626, -1.0653615, -1.7682115, -0.95179594, 0.03783419, 0.2663435, 0.062611192], dx: [0.0, 2.1278808, -0.54953605, -2.6110444, 1.4206055, 2.161165, -1.8220648, -1.2234843, 1.2843814, 0.43004695, -0.30396205, -0.058660205, 1.3533274, -0.19722499, -2.2465703, 0.92745072, 2.3589067, -1.5080904, -1.6388522, 1.3972167, 0.67640758, -0.68295819, -0.10279608, 0.056714244], dw: [-1.3200297, 1.2647903, -0.41347751, -0.1990369, 0.81817067, -1.4716667, 1.2661618, -1.0397149, 0.4776569, 0.50959855, -0.91099846, 1.3762681] },
  conv1d: { shape: [2, 6, 4], y: [0.66915029, -0.63476652, -1.3190929, 0.17046106, 1.4735298, 1.5691552, 0.65512854, 0.067270696, -1.4748651, -0.16062957, 0.42506295, -1.1279275, -0.67263007, -0.59653467, 0.3881056, 0.78503358, 1.3713336, 0.037751198, -0.38450038, 1.2155286, -0.13449097, -0.35449672, -1.3847013, -1.6089655, 0.64740551, -0.71593595, -1.2881094, 0.21310848, 1.5034916, 1.5451837, 0.60504085, 0.063606203, -1.449887, -0.082046926, 0.38867444, -1.1709704, -0.69831991, -0.56271702, 0.43339822, 0.78231722, 1.3422629, -0.035437465, -0.34035277, 1.2576241, -0.11193824, -0.39621228, -1.4252297, -1.6017065], dx: [0.0, 0.71191776, 0.0, 0.013487697, 0.0, 0.63675052, 0.0, 0.57633895, 0.0, 0.0, 0.31445104, 0.0, 0.35637105, 0.0, -0.24916029, 0.0, 0.59124553, 0.0, 0.0, 0.054601073, 0.0, -0.024802208, 0.0, 0.31088471, 0.0, -1.1891279, 0.0, 0.0, 0.93496197, 0.0, 0.68024725, 0.0, 0.75803506, 0.0, 2.1488531, 0.0, 0.0, 1.8121198, 0.0, 1.6836987, 0.0, 1.9848652, 0.0, 2.3885009, 0.0, 0.0, -1.9313624, 0.0, -1.366709, 0.0, -1.7479445, 0.0, -0.92411494, 0.0, 0.0, 2.054493, 0.0, 0.88347936, 0.0, 1.0533791, 0.0, -0.2042098, 0.0, 0.0, -0.43808907, 0.0, 0.70433664, 0.0, 0.5791347, 0.0, 2.0044999, 0.0], dw: [1.4797626, -0.73646611, -1.3553855, 1.4532963, -0.75573844, -1.3757049, 1.9302151, 1.1229277, -0.46764779, 1.9231383, 1.1119597, -0.50462294, -0.080905974, 1.5502695, 1.0164742, -0.059568495, 1.5615933, 1.0099972, -1.9432118, 0.038917601, 1.2685112, -1.9195646, 0.05807659, 1.3000836, -1.3700612, -1.5442693, -0.083922893, -1.3742893, -1.540822, -0.053995013, 0.95030773, -1.1580729, -1.3293314, 0.92359626, -1.1747336, -1.3392147], db: [5.3435907, 5.8207312, -1.1252173, -6.6361933, -3.6841352, 3.9662445] },
  convT: { shape: [2, 6, 5, 5], y: [0.01391038, 0.09509325, -0.65634012, -1.7041671, -0.7746911, -0.84341711, 0.15844253, 1.6473143, 0.2317059, -0.46029115, 0.11334789, -1.0024196, -1.1276002, 0.18059595, 0.29046729, 0.86818534, 0.49546275, -1.0460888, -1.602175, -0.79678482, -0.12835705, 0.91704226, 1.7948689, 1.5218205, 0.48140907, 0.8545292, 0.016952634, -0.76003486, 0.96161741, 1.8364983, 1.5420604, 2.1601455, 0.8530193, 0.36930239, 0.90178108, -0.23573822, -0.017345428, 2.0056031, 1.3996985, 0.51674199, 0.1813814, -0.96367556, -0.69661015, 0.25590521, 0.96105289, 1.9814885, 2.5985553, 1.3329877, 0.22311324, 0.23974597, -0.88642275, -1.0579897, -0.39040273, 0.84321064, 0.00814569, 0.04509753, -0.89006466, -2.5199897, -1.1565793, -0.40712231, -1.1035125, 0.035821199, 0.37930268, -0.99427754, -1.1994312, -1.8133383, -1.5641797, 0.0061914325, 0.66506451, -0.064232528, -0.62254351, -1.6013534, -2.6157503, -2.4624705, -1.4202644, -0.017593136, -0.32484248, 0.19173975, 1.7249238, 1.0797387, 1.0258199, 0.24091192, -1.5868868, -0.31882906, 0.51327026, -0.43292016, 0.70387959, 1.4353728, -0.051729254, -0.4072746, -1.057261, -1.0323645, 0.58104128, 1.3571483, 0.78308272, 0.50531358, -0.33525649, -1.5904213, -1.6220893, -0.61791277, 0.89675045, 1.6708269, 2.580147, 1.2930834, 0.19193041, 0.49854133, -0.36703277, 0.39874303, 1.289759, 0.9738614, 1.8212748, 1.9411726, 0.09787941, 0.2913487, 1.1055363, 1.2194421, 2.4149456, 2.6238689, 1.8937343, 1.0098673, -0.16359746, -1.0587333, -0.10689479, 0.98482454, 1.2638998, -0.84074032, -0.44995868, -0.86841881, -2.5404978, -2.0141344, -1.9271249, -1.2356234, 0.67480993, -0.49709457, -1.3632817, -0.32564545, -1.4495133, -2.3799195, -0.87193263, -0.42852709, 0.23374963, 0.33786309, -1.2529951, -2.1078923, -1.6292081, -1.478072, -0.73409152, 0.62379205, 0.77326798, -0.20079875, 0.023251802, 0.020570815, -0.76844835, -1.7532384, -0.78077447, -0.80706704, 0.20288789, 1.6268933, 0.1155479, -0.53937852, 0.10755354, -0.96815568, -1.0296283, 0.30577144, 0.33870953, 0.89776444, 0.46253228, -1.1308618, -1.5536171, -0.72782797, -0.13184696, 0.95696932, 1.8080537, 1.4445026, 0.43878365, 0.76864612, -0.082956731, -0.73122543, 1.0070329, 1.8455789, 1.514123, 2.0659535, 0.73119819, 0.30372238, 0.91082722, -0.18938249, 0.085144699, 2.0844991, 1.3697363, 0.4553661, 0.15686923, -0.9887138, -0.63098007, 0.31960273, 0.95398253, 2.0205667, 2.5949805, 1.2245167, 0.20795101, 0.29263657, -0.90503192, -0.99424863, -0.27518576, 0.89718288, 0.01520896, 0.0057326555, -0.94467449, -2.5127146, -1.0474981, -0.32705873, -1.092716, 0.012617111, 0.28984457, -1.1226864, -1.2542967, -1.8455626, -1.533951, 0.098046541, 0.6233806, -0.13395238, -0.61483663, -1.6416664, -2.6406405, -2.3867888, -1.3719313, -0.053882293, -0.28400487, 0.30866531, 1.7828641, 1.0860965, 0.97957337, 0.16752653, -1.6023664, -0.22690849, 0.59132087, -0.41154596, 0.70192128, 1.3627876, -0.18186846, -0.47240284, -1.0911736, -1.0061997, 0.68244952, 1.3275675, 0.71257806, 0.52002275, -0.37411615, -1.6340598, -1.5486284, -0.55850941, 0.97357535, 1.7856618, 2.5851526, 1.2654735, 0.18691909, 0.51375574, -0.29080355, 0.51960719, 1.3867834, 0.99036825, 1.7778118, 1.8324569, -0.005012989, 0.28062207, 1.1466992, 1.2319992, 2.4452, 2.5858173, 1.8166593, 0.99412638, -0.19653749, -1.0637988, -0.0080111027, 1.0232658, 1.2273499, -0.79616082, -0.47840476, -0.98480481, -2.601418, -2.0210328, -1.8792365, -1.154012, 0.7033323, -0.5785448, -1.4395509, -0.35170984, -1.4592865, -2.3184371, -0.7429502, -0.35895663, 0.26901734, 0.31496298, -1.3585097, -2.0866289, -1.5604022, -1.4963359, -0.69577825, 0.67810142, 0.7039547, -0.26414645], dx: [1.2728211, 0.3174172, -0.66634125, 1.6328759, 2.2691889, 2.7028027, -1.2778493, -1.9910183, -2.5263364, -2.4845908, -2.6850286, -2.6456201, 1.0129068, 0.6379416, 0.20599206, -1.160224, -0.8242209, -0.41459313, -1.2350019, -2.1201501, -2.8159096, 2.705178, 2.828769, 2.6996748, -2.5613909, -2.8017714, -2.7918825, -2.284904, -1.7938693, -1.1425974, -0.5313549, -1.0202212, -1.4179479, 0.281259, 0.79832304, 1.2440717, -1.9186122, -2.6250114, -3.0969262, 2.899936, 2.7323945, 2.3207757, -2.8890696, -2.8433349, -2.5436094, -2.2018549, -1.642327, -0.93609726, -0.41729242, -0.82656801, -1.162009, 0.20876807, 0.64048064, 1.0149819, -3.3562434, -3.3897443, -3.1204572, 2.1248405, 1.4780902, 0.69931185, -2.3670995, -1.8036656, -1.0791208, -0.080300391, 0.70218706, 1.4219474, -1.7550745, -1.8123407, -1.7077267, 1.6727266, 1.8055077, 1.7770174], dw: [5.0141435, 4.0278597, 2.6817818, 0.25110865, -0.821854, -1.821401, -0.68161964, -2.3053372, -3.7231264, -3.2830081, -3.5740228, -3.5457819, -5.4866877, -5.6260805, -5.2629118, -2.5271206, -1.655907, -0.63678074, 4.9586296, 3.9951198, 2.674741, 0.34847867, -0.69832671, -1.6827508, -0.63644588, -2.2397575, -3.6429996, -3.1524282, -3.4656916, -3.4693761, -5.3998556, -5.5478764, -5.2003207, -2.5339637, -1.7043312, -0.72246069, -3.0912161, -1.6173251, 0.0010300875, 1.2599926, 2.1415792, 2.8318686, 3.168452, 4.3468609, 5.1369734, 3.4136076, 3.2369647, 2.7711825, 5.2878084, 4.6308727, 3.5602801, 1.1065651, 0.10251045, -0.91069126, -3.0744395, -1.6277778, -0.035718322, 1.1239157, 1.9984229, 2.6944208, 3.0902178, 4.2582917, 5.0459805, 3.3246775, 3.1851664, 2.7611427, 5.216795, 4.5799236, 3.533946, 1.1809894, 0.20975655, -0.78020382], db: [5.5001335, 5.4629326, -1.7128462, -6.6503906, -2.8976789, 4.6415176] },
  convTDil: { shape: [1, 1, 6, 5], y: [0.76999766, 0.86795241, -0.18749334, 0.40939599, 0.0, 0.55769557, -0.014854068, 0.81374007, 0.83536947, 0.0, -1.450724, -1.5219282, 0.18599272, -0.88199592, 0.0, -0.1223464, 0.46177483, -0.87919539, -0.58832097, 0.0, 0.82871652, 0.8058995, -0.020749822, 0.55658019, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], dx: [0.92116416, 1.1464852, 0.96457809, 0.66880482, -0.78470129, -1.0518664, 0.12117249, -0.46955103, -1.9670806, -1.9563466, -0.39946401, 0.1927782], dw: [2.1166034, 2.0313663, -2.024327, -2.1210165, -0.96681166, -2.7656274, 0.46535712, 2.4091055] },
  nearestUp: { shape: [1, 2, 5, 7], y: [0.0, 0.0, 0.64421767, 0.64421767, 0.98544973, 0.98544973, 0.86320943, 0.0, 0.0, 0.64421767, 0.64421767, 0.98544973, 0.98544973, 0.86320943, 0.33498821, 0.33498821, -0.35078323, -0.35078323, -0.87157565, -0.87157565, -0.98245257, 0.33498821, 0.33498821, -0.35078323, -0.35078323, -0.87157565, -0.87157565, -0.98245257, -0.63126671, -0.63126671, 0.016813615, 0.016813615, 0.65698659, 0.65698659, 0.98816818, 0.85459912, 0.85459912, 0.31909892, 0.31909892, -0.36647931, -0.36647931, -0.87969577, 0.85459912, 0.85459912, 0.31909892, 0.31909892, -0.36647931, -0.36647931, -0.87969577, -0.97917777, -0.97917777, -0.61813742, -0.61813742, 0.033622477, 0.033622477, 0.66956991, -0.97917777, -0.97917777, -0.61813742, -0.61813742, 0.033622477, 0.033622477, 0.66956991, 0.99060738, 0.99060738, 0.84574693, 0.84574693, 0.30311874, 0.30311874, -0.38207176], dx: [1.8341926, 1.9164692, 1.3292676, 0.28608137, -1.5207503, -0.54987133, 0.61309379, 0.69047421, 1.5175672, 0.53657275, -0.63186353, -0.69987524, -1.4995337, -0.5180217, 0.64444906, 0.70242608, -0.37559921, -1.4007477, -1.9365766, -0.95875859, 0.39373988, 1.4192142, 1.9489176, 0.96115249] },
  nearestDown: { shape: [1, 2, 1, 2], y: [0.0, 0.64421767, 0.85459912, 0.31909892], dx: [0.0, 0.29552022, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.56464249, 0.78332692, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0] },
  bilinear: { shape: [1, 2, 5, 7], y: [0.0, 0.23007776, 0.59820217, 0.81483376, 0.97671831, 0.90686667, 0.86320949, 0.13399529, 0.17407458, 0.23820144, 0.24442843, 0.23423271, 0.16697846, 0.12494458, 0.33498815, 0.090069771, -0.30179954, -0.61117941, -0.87949538, -0.94285357, -0.98245251, -0.24476482, -0.20385778, -0.13840649, -0.042331584, 0.056587417, 0.14479215, 0.19992009, -0.63126671, -0.39980942, -0.029477814, 0.3369002, 0.68064249, 0.86988914, 0.98816824, 0.85459912, 0.66334897, 0.35734892, -0.023690276, -0.40313768, -0.69640428, -0.87969577, 0.12108829, 0.057915419, -0.043161076, -0.13111714, -0.21026364, -0.24086414, -0.25998944, -0.97917765, -0.85023463, -0.64392585, -0.29225734, 0.079047374, 0.4424459, 0.66956985, 0.20269349, 0.22322914, 0.25608623, 0.22775678, 0.18412486, 0.094561726, 0.038584825, 0.99060738, 0.93887144, 0.85609412, 0.57443279, 0.2541765, -0.13736099, -0.38207176], dx: [1.0270864, 1.4467069, 1.4729997, 1.0915622, -0.93659419, -1.0354867, -0.82094938, -0.41050541, 1.4652743, 1.3088161, 0.71162015, 0.00082873716, -1.4094766, -1.0923331, -0.37780672, 0.3426879, 0.77026629, 0.39017728, -0.1741107, -0.61348099, -0.64027113, 0.054037984, 0.84113103, 1.2898405] },
  bilinearAC: { shape: [1, 2, 5, 3], y: [0.0, 0.8148337, 0.86320943, 0.1674941, 0.10182711, -0.059621572, 0.33498821, -0.61117947, -0.98245257, -0.14813925, -0.13713968, 0.0028578043, -0.63126671, 0.33690012, 0.98816818, 0.85459912, -0.023690194, -0.87969577, -0.062289327, -0.15797383, -0.10506293, -0.97917777, -0.29225746, 0.66956991, 0.0057148039, 0.1410877, 0.14374907, 0.99060738, 0.57443285, -0.38207176], dx: [0.39166346, 0.38076988, 0.38076988, 1.06339, 1.579201, 0.69989443, 0.69989443, 1.0953376, -0.22883067, -0.30860314, -0.30860314, -0.95044881, -1.3639123, -0.63575363, -0.63575363, -1.0655223, 0.027265877, 0.2525996, 0.2525996, 0.93800378, 1.3667238, 0.66179931, 0.66179931, 1.1622403] },
  bilinearSF: { shape: [1, 2, 4, 3], y: [0.10736962, 0.8148337, 0.88358283, 0.16403128, 0.10182711, -0.040195137, 0.09670186, -0.45316613, -0.64781559, -0.39926231, 0.17888691, 0.61681396, 0.76534909, -0.023690227, -0.79415977, -0.076827645, -0.15797383, -0.11529052, -0.60475951, -0.147809, 0.42500332, 0.6522193, 0.42998445, -0.12929808], dx: [0.32638621, 0.4460471, 0.55800146, 0.88615841, 1.0620275, 0.81684572, 0.77699733, 0.86278546, 0.43204823, 0.21714377, 0.12758787, -0.015731417, -0.77607137, -0.74813849, -0.81533808, -1.1120695, -0.94161081, -0.64085364, -0.5524227, -0.49945578, -0.095651969, 0.064788193, 0.1564959, 0.36288667] },
};

const X0 = [-4, -3, -1.5, -0.5, 0, 0.5, 1, 3, 6, 7];

/** y = f(x) and dx of y.sum() for x = X0. */
function act(f: (x: tg.Tensor) => tg.Tensor): { y: tg.Tensor; dx: tg.Tensor } {
  const x = tg.tensor(X0).requiresGrad_();
  const y = f(x);
  y.sum().backward();
  return { y, dx: x.grad! };
}

describe("activations", () => {
  // torch: x = tensor(X0, requires_grad=True); y = f(x); y.sum().backward() → y, x.grad
  // with f = F.elu, F.elu(·, 2.), F.selu, F.celu(·, 0.5), F.mish, F.hardtanh,
  // F.hardtanh(·, -3., 6.), F.relu6, F.hardsigmoid, F.hardswish
  const cases: [keyof typeof REF, (x: tg.Tensor) => tg.Tensor][] = [
    ["elu", (x) => F.elu(x)],
    ["eluAlpha2", (x) => F.elu(x, 2)],
    ["selu", (x) => F.selu(x)],
    ["celu", (x) => F.celu(x, 0.5)],
    ["mish", (x) => F.mish(x)],
    ["hardtanh", (x) => F.hardtanh(x)],
    ["hardtanhWide", (x) => F.hardtanh(x, -3, 6)],
    ["relu6", (x) => F.relu6(x)],
    ["hardsigmoid", (x) => F.hardsigmoid(x)],
    ["hardswish", (x) => F.hardswish(x)],
  ];
  for (const [name, f] of cases) {
    it(`${name}: values and gradients (kinks included) as PyTorch`, () => {
      const ref = REF[name] as { y: number[]; dx: number[] };
      const { y, dx } = act(f);
      expectClose(y.dataSync(), ref.y, { label: `${name} y` });
      expectClose(dx.dataSync(), ref.dx, { label: `${name} dx` });
    });
  }

  it("elu is exact near 0 (expm1) and has no NaN gradient for huge inputs", () => {
    const x = tg.tensor([-1e-7, 1e30, -1e30], { dtype: "float64" }).requiresGrad_();
    const y = F.elu(x);
    y.sum().backward();
    expect(y.dataSync()[0]).toBeCloseTo(Math.expm1(-1e-7), 20);
    expect(Array.from(x.grad!.dataSync())).toEqual([Math.exp(-1e-7), 1, 0]);
    const m = tg.tensor([-200, 200]).requiresGrad_();
    F.mish(m).sum().backward();
    expect(Array.from(m.grad!.dataSync()).every(Number.isFinite)).toBe(true);
    // torch 1.13 gives +0 at −0 for elu, selu and celu (expm1 alone would keep −0).
    for (const f of [F.elu, F.selu, F.celu]) {
      expect(Object.is(f(tg.tensor([-0])).dataSync()[0], 0)).toBe(true);
    }
  });

  it("prelu: per-channel slopes on axis 1, gradients for input and weight as PyTorch", () => {
    // torch: x = tensor(X0[:6]).reshape(1,3,2); w = tensor([0.25,-0.5,2.]);
    // (F.prelu(x, w) * arange(1., 7.).reshape(1,3,2)).sum().backward()
    const x = tg.tensor(X0.slice(0, 6)).reshape([1, 3, 2]).requiresGrad_();
    const w = tg.tensor([0.25, -0.5, 2]).requiresGrad_();
    const y = F.prelu(x, w);
    y.mul(tg.arange(1, 7).reshape([1, 3, 2]))
      .sum()
      .backward();
    expectClose(y.dataSync(), REF.prelu.y);
    expectClose(x.grad!.dataSync(), REF.prelu.dx);
    expectClose(w.grad!.dataSync(), REF.prelu.dw);
    // One shared slope, and a 1-D input (one channel).
    expect(F.prelu(tg.tensor([-2, 2]), tg.tensor([0.5])).toArray()).toEqual([-1, 2]);
  });

  it("gradcheck in float64 (away from the kinks)", () => {
    const away = [{ shape: [3, 4], kind: "away0" as const }];
    gradcheck("elu", ([x]) => F.elu(x!, 1.5), away);
    gradcheck("selu", ([x]) => F.selu(x!), away);
    gradcheck("celu", ([x]) => F.celu(x!, 0.7), away);
    gradcheck("mish", ([x]) => F.mish(x!), [{ shape: [3, 4] }]);
    gradcheck("hardtanh", ([x]) => F.hardtanh(x!, -0.5, 0.6).mul(x!), away);
    gradcheck("relu6", ([x]) => F.relu6(x!.mul(4)), away);
    gradcheck("hardsigmoid", ([x]) => F.hardsigmoid(x!.mul(4)), away);
    gradcheck("hardswish", ([x]) => F.hardswish(x!.mul(4)), away);
    gradcheck("prelu", ([x, w]) => F.prelu(x!, w!), [
      { shape: [2, 3, 2], kind: "away0" },
      { shape: [3] },
    ]);
  });

  it("rejects bad arguments with errors naming the op", () => {
    expect(() => F.celu(tg.ones([2]), 0)).toThrow(/celu: alpha cannot be 0/);
    expect(() => F.hardtanh(tg.ones([2]), 1, -1)).toThrow(/hardtanh: minVal 1 is greater/);
    expect(() => F.prelu(tg.ones([2, 3]), tg.ones([2]))).toThrow(
      /prelu: weight \[2\] must hold 1 or 3/,
    );
    expect(() => F.elu(tg.ones([2], { dtype: "int32" }))).toThrow(/elu: needs a floating tensor/);
    expect(() => F.elu(tg.ones([2]), NaN)).toThrow(/elu: alpha must be a finite number/);
  });
});

describe("regression and divergence losses", () => {
  // torch: a = tensor([[0.5,-1.,2.],[0.25,3.,-0.75]]); b = tensor([[0.5,0.,0.],[1.25,0.5,-0.5]])
  // none = f(a, b, reduction='none'); (none * tensor([[1.,2,3],[4,5,6]])).sum().backward() → dNone;
  // f(a, b, reduction='mean').backward() → dMean, for l1_loss, smooth_l1_loss (beta 1, 2, 0) and
  // huber_loss (delta 1, 2). The residuals hit 0 and ±β.
  const a = () =>
    T([
      [0.5, -1, 2],
      [0.25, 3, -0.75],
    ]).requiresGrad_();
  const b = T([
    [0.5, 0, 0],
    [1.25, 0.5, -0.5],
  ]);
  const gw = T([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  const cases: [keyof typeof REF, (x: tg.Tensor, t: tg.Tensor, r: tg.F.Reduction) => tg.Tensor][] =
    [
      ["l1", (x, t, r) => F.l1Loss(x, t, r)],
      ["smoothL1", (x, t, r) => F.smoothL1Loss(x, t, r)],
      ["smoothL1Beta2", (x, t, r) => F.smoothL1Loss(x, t, r, 2)],
      ["smoothL1Beta0", (x, t, r) => F.smoothL1Loss(x, t, r, 0)],
      ["huber", (x, t, r) => F.huberLoss(x, t, r)],
      ["huberDelta2", (x, t, r) => F.huberLoss(x, t, r, 2)],
    ];
  for (const [name, f] of cases) {
    it(`${name}: every reduction and its gradient as PyTorch`, () => {
      const ref = REF[name] as {
        none: number[];
        mean: number;
        sum: number;
        dNone: number[];
        dMean: number[];
      };
      const x = a();
      const none = f(x, b, "none");
      expect(none.shape).toEqual([2, 3]);
      none.mul(gw).sum().backward();
      expectClose(none.dataSync(), ref.none);
      expectClose(x.grad!.dataSync(), ref.dNone);
      const x2 = a();
      const mean = f(x2, b, "mean");
      mean.backward();
      expect(mean.item()).toBeCloseTo(ref.mean, 6);
      expectClose(x2.grad!.dataSync(), ref.dMean);
      expect(f(a(), b, "sum").item()).toBeCloseTo(ref.sum, 5);
    });
  }

  it("klDiv: every reduction including batchmean, and log targets, as PyTorch", () => {
    // torch: logq = log_softmax(tensor([[0.2,-1.,0.5],[1.5,0.,-0.5]]), 1);
    // p = tensor([[0.2,0.,0.8],[0.5,0.25,0.25]]); F.kl_div(logq, p, reduction=r) for each r,
    // none weighted by [[1,2,3],[4,5,6]] before backward.
    const ref = REF.klDiv;
    const p = tg.tensor(REF.klTarget).reshape([2, 3]);
    for (const r of ["none", "mean", "sum", "batchmean"] as const) {
      const x = tg.tensor(REF.klInput).reshape([2, 3]).requiresGrad_();
      const l = F.klDiv(x, p, r);
      (r === "none" ? l.mul(gw).sum() : l).backward();
      const key = `d${r[0]!.toUpperCase()}${r.slice(1)}` as "dNone";
      expectClose(l.dataSync(), r === "none" ? ref.none : [ref[r]], { label: r });
      expectClose(x.grad!.dataSync(), ref[key], { label: `${r} grad` });
    }
    // torch: F.kl_div(logq, log(p2), reduction='batchmean', log_target=True) with
    // p2 = [[0.2,0.1,0.7],[0.5,0.25,0.25]].
    const x = tg.tensor(REF.klInput).reshape([2, 3]).requiresGrad_();
    const l = F.klDiv(x, tg.tensor(REF.klLogTarget.target).reshape([2, 3]), "batchmean", true);
    l.backward();
    expect(l.item()).toBeCloseTo(REF.klLogTarget.batchmean, 6);
    expectClose(x.grad!.dataSync(), REF.klLogTarget.dInput);
    // The gradient with respect to the target: torch's where the target is positive; at a zero
    // target torch gives NaN (0·log 0 differentiated), tsgrad the finite −input.
    const t = tg.tensor(REF.klTarget).reshape([2, 3]).requiresGrad_();
    F.klDiv(tg.tensor(REF.klInput).reshape([2, 3]), t, "sum").backward();
    const dt = Array.from(t.grad!.dataSync());
    expect(Number.isNaN(REF.klDTarget[1])).toBe(true);
    expectClose(
      [...dt.slice(0, 1), ...dt.slice(2)],
      [...REF.klDTarget.slice(0, 1), ...REF.klDTarget.slice(2)],
    );
    expect(dt[1]).toBeCloseTo(-REF.klInput[1]!, 6);
  });

  it("gradcheck in float64", () => {
    const two = [{ shape: [2, 3] }, { shape: [2, 3] }];
    gradcheck("l1Loss", ([x, t]) => F.l1Loss(x!, t!, "none"), [
      { shape: [2, 3], kind: "away0" },
      { shape: [2, 3], values: [0, 0, 0, 0, 0, 0] },
    ]);
    gradcheck("smoothL1Loss", ([x, t]) => F.smoothL1Loss(x!, t!, "mean", 0.5), two);
    gradcheck("huberLoss", ([x, t]) => F.huberLoss(x!, t!, "sum", 0.5), two);
    gradcheck("klDiv", ([x, t]) => F.klDiv(x!, t!, "batchmean"), [
      { shape: [2, 3] },
      { shape: [2, 3], kind: "positive" },
    ]);
    gradcheck("klDiv logTarget", ([x, t]) => F.klDiv(x!, t!, "mean", true), two);
  });

  it("rejects mismatched shapes (no broadcasting), bad β/δ and unknown reductions", () => {
    expect(() => F.l1Loss(tg.ones([3, 1]), tg.ones([3]))).toThrow(
      /l1Loss: input \[3,1\] and target \[3\] differ in shape/,
    );
    expect(() => F.klDiv(tg.ones([2, 3]), tg.ones([3]))).toThrow(/klDiv: input \[2,3\]/);
    expect(() => F.smoothL1Loss(tg.ones([2]), tg.ones([2]), "mean", -1)).toThrow(
      /smoothL1Loss: beta must be non-negative/,
    );
    expect(() => F.huberLoss(tg.ones([2]), tg.ones([2]), "mean", 0)).toThrow(
      /huberLoss: delta must be positive/,
    );
    expect(() => F.huberLoss(tg.ones([2]), tg.ones([2]), "avg" as "mean")).toThrow(
      /huberLoss: unknown reduction "avg"/,
    );
  });
});

describe("groupNorm and rmsNorm", () => {
  it("groupNorm matches PyTorch in values and gradients", () => {
    // torch: x = det([2,4,3], 0.9); w = [1,0.5,-1,2]; b = [0,0.1,0.2,-0.3];
    // (F.group_norm(x, 2, w, b) * det([2,4,3], 1.7)).sum().backward()
    const x = det([2, 4, 3], 0.9).requiresGrad_();
    const w = tg.tensor([1, 0.5, -1, 2]).requiresGrad_();
    const b = tg.tensor([0, 0.1, 0.2, -0.3]).requiresGrad_();
    const y = F.groupNorm(x, 2, w, b);
    y.mul(det([2, 4, 3], 1.7))
      .sum()
      .backward();
    expectClose(y.dataSync(), REF.groupNorm.y, { atol: 1e-5 });
    expectClose(x.grad!.dataSync(), REF.groupNorm.dx, { atol: 1e-4, rtol: 1e-4 });
    expectClose(w.grad!.dataSync(), REF.groupNorm.dw, { atol: 1e-5 });
    expectClose(b.grad!.dataSync(), REF.groupNorm.db, { atol: 1e-5 });
  });

  it("rmsNorm matches PyTorch 2.4's formula, with eps = float32 epsilon by default", () => {
    // torch 1.13 has no rms_norm; 2.4's is x · rsqrt(mean(x², trailing axes) + eps) · weight with
    // eps = finfo(dtype).eps, computed so: x = det([2,3,4], 0.9); w = det([3,4], 0.4) + 1;
    // (y * det([2,3,4], 1.7)).sum().backward()
    const x = det([2, 3, 4], 0.9).requiresGrad_();
    const w = det([3, 4], 0.4).add(1).requiresGrad_();
    const y = F.rmsNorm(x, [3, 4], w);
    y.mul(det([2, 3, 4], 1.7))
      .sum()
      .backward();
    expectClose(y.dataSync(), REF.rmsNorm.y, { atol: 1e-5 });
    expectClose(x.grad!.dataSync(), REF.rmsNorm.dx, { atol: 1e-4, rtol: 1e-4 });
    expectClose(w.grad!.dataSync(), REF.rmsNorm.dw, { atol: 1e-5 });
    // The default eps is the dtype's: for an all-zero float64 row, 0 · (2⁻⁵²)^-½ = 0, and a row
    // of 1e-9 gives 1e-9 / √(1e-18 + 2⁻⁵²).
    const tiny = F.rmsNorm(tg.tensor([[1e-9, 1e-9]], { dtype: "float64" }), [2]);
    expect(tiny.dataSync()[0]).toBeCloseTo(1e-9 / Math.sqrt(1e-18 + 2 ** -52), 12);
  });

  it("gradcheck in float64", () => {
    gradcheck("groupNorm", ([x, w, b]) => F.groupNorm(x!, 2, w, b), [
      { shape: [2, 4, 3] },
      { shape: [4] },
      { shape: [4] },
    ]);
    gradcheck("groupNorm no affine", ([x]) => F.groupNorm(x!, 3, null, null, 1e-3), [
      { shape: [2, 6] },
    ]);
    gradcheck("rmsNorm", ([x, w]) => F.rmsNorm(x!, [4], w), [{ shape: [3, 4] }, { shape: [4] }]);
  });

  it("rejects bad shapes", () => {
    expect(() => F.groupNorm(tg.ones([2, 6, 4]), 4)).toThrow(
      /groupNorm: the 6 channels of input \[2,6,4\] are not divisible into numGroups=4/,
    );
    expect(() => F.groupNorm(tg.ones([2, 6]), 3, tg.ones([3]))).toThrow(
      /groupNorm: weight shape \[3\] must be \[6\]/,
    );
    expect(() => F.rmsNorm(tg.ones([2, 3]), [2])).toThrow(/rmsNorm: normalized shape \[2\]/);
    expect(() => F.rmsNorm(tg.ones([2, 3]), [3], tg.ones([2]))).toThrow(
      /rmsNorm: weight shape \[2\] must equal/,
    );
  });
});

describe("dropout2d", () => {
  it("zeroes whole channels with probability p and scales the rest by 1/(1-p)", () => {
    const g = new tg.Generator(3);
    const y = F.dropout2d(tg.ones([8, 50, 3, 3]), 0.25, true, g);
    const per = y.amax([2, 3]);
    expect(
      per
        .eq(y.amin([2, 3]))
        .sum()
        .item(),
    ).toBe(400); // every channel constant
    const kept = per.gt(0).sum().item();
    expect(kept).toBeGreaterThan(260); // 300 expected, σ ≈ 8.7
    expect(kept).toBeLessThan(340);
    expect(y.max().item()).toBeCloseTo(4 / 3, 6);
    // The gradient is the same mask.
    const x = tg.ones([2, 3, 2, 2]).requiresGrad_();
    const z = F.dropout2d(x, 0.5, true, new tg.Generator(1));
    z.sum().backward();
    expect(Array.from(x.grad!.dataSync())).toEqual(Array.from(z.dataSync()));
  });

  it("is the identity in eval mode or with p = 0, zero with p = 1, and checks its input", () => {
    const x = tg.randn([2, 3, 2, 2]);
    expect(F.dropout2d(x, 0.5, false)).toBe(x);
    expect(F.dropout2d(x, 0)).toBe(x);
    expect(F.dropout2d(x, 1).abs().sum().item()).toBe(0);
    expect(() => F.dropout2d(x, 1.5)).toThrow(/dropout2d: probability must be in \[0, 1\]/);
    expect(() => F.dropout2d(tg.ones([3, 4, 4]))).toThrow(/dropout2d: expected a 4-D input/);
  });
});

describe("conv1d and convTranspose2d", () => {
  it("conv1d (groups, stride, dilation, padding) matches PyTorch", () => {
    // torch: x = det([2,4,9], 0.7); w = det([6,2,3], 1.3); b = det([6], 2.1);
    // y = F.conv1d(x, w, b, stride=2, padding=1, dilation=2, groups=2);
    // (y * det(y.shape, 0.3)).sum().backward()
    const x = det([2, 4, 9], 0.7).requiresGrad_();
    const w = det([6, 2, 3], 1.3).requiresGrad_();
    const b = det([6], 2.1).requiresGrad_();
    const y = F.conv1d(x, w, b, { stride: 2, padding: 1, dilation: 2, groups: 2 });
    expect(y.shape).toEqual(REF.conv1d.shape);
    y.mul(det(y.shape, 0.3)).sum().backward();
    expectClose(y.dataSync(), REF.conv1d.y, { atol: 1e-5 });
    expectClose(x.grad!.dataSync(), REF.conv1d.dx, { atol: 1e-5 });
    expectClose(w.grad!.dataSync(), REF.conv1d.dw, { atol: 1e-5 });
    expectClose(b.grad!.dataSync(), REF.conv1d.db, { atol: 1e-5 });
  });

  it('conv1d: "same" padding with an even kernel pads the extra zero on the right, as PyTorch', () => {
    // torch: F.conv1d(tensor([[[1.,2,3,4]]]), tensor([[[1.,10]]]), padding='same') → [[[21,32,43,4]]]
    const y = F.conv1d(tg.tensor([[[1, 2, 3, 4]]]), tg.tensor([[[1, 10]]]), null, {
      padding: "same",
    });
    expect(y.toArray()).toEqual([[[21, 32, 43, 4]]]);
    expect(F.conv1d(tg.ones([3, 5]), tg.ones([2, 3, 2])).shape).toEqual([2, 4]); // unbatched
  });

  it("convTranspose2d (groups, stride, padding, outputPadding) matches PyTorch", () => {
    // torch: x = det([2,4,3,3], 0.7); w = det([4,3,2,3], 1.3); b = det([6], 2.1);
    // y = F.conv_transpose2d(x, w, b, stride=(2,1), padding=(1,0), output_padding=(1,0), groups=2);
    // (y * det(y.shape, 0.3)).sum().backward()
    const x = det([2, 4, 3, 3], 0.7).requiresGrad_();
    const w = det([4, 3, 2, 3], 1.3).requiresGrad_();
    const b = det([6], 2.1).requiresGrad_();
    const y = F.convTranspose2d(x, w, b, {
      stride: [2, 1],
      padding: [1, 0],
      outputPadding: [1, 0],
      groups: 2,
    });
    expect(y.shape).toEqual(REF.convT.shape);
    y.mul(det(y.shape, 0.3)).sum().backward();
    expectClose(y.dataSync(), REF.convT.y, { atol: 1e-5 });
    expectClose(x.grad!.dataSync(), REF.convT.dx, { atol: 1e-5 });
    expectClose(w.grad!.dataSync(), REF.convT.dw, { atol: 1e-5 });
    expectClose(b.grad!.dataSync(), REF.convT.db, { atol: 1e-5 });
  });

  it("convTranspose2d: outputPadding at the stride but below the dilation, as PyTorch", () => {
    // torch: x = det([1,2,3,2], 0.7); w = det([2,1,2,2], 1.3);
    // y = F.conv_transpose2d(x, w, stride=1, dilation=2, output_padding=1)
    const x = det([1, 2, 3, 2], 0.7).requiresGrad_();
    const w = det([2, 1, 2, 2], 1.3).requiresGrad_();
    const y = F.convTranspose2d(x, w, null, { dilation: 2, outputPadding: 1 });
    expect(y.shape).toEqual(REF.convTDil.shape);
    y.mul(det(y.shape, 0.3)).sum().backward();
    expectClose(y.dataSync(), REF.convTDil.y, { atol: 1e-5 });
    expectClose(x.grad!.dataSync(), REF.convTDil.dx, { atol: 1e-5 });
    expectClose(w.grad!.dataSync(), REF.convTDil.dw, { atol: 1e-5 });
  });

  it("gradcheck in float64", () => {
    gradcheck(
      "conv1d",
      ([x, w, b]) => F.conv1d(x!, w!, b, { stride: 2, padding: "valid", dilation: 2, groups: 2 }),
      [{ shape: [2, 4, 7] }, { shape: [4, 2, 2] }, { shape: [4] }],
    );
    gradcheck("conv1d same", ([x, w]) => F.conv1d(x!, w!, null, { padding: "same" }), [
      { shape: [1, 2, 5] },
      { shape: [3, 2, 4] },
    ]);
    gradcheck(
      "convTranspose2d",
      ([x, w, b]) =>
        F.convTranspose2d(x!, w!, b, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }),
      [{ shape: [1, 4, 3, 2] }, { shape: [4, 1, 3, 2] }, { shape: [2] }],
    );
    gradcheck(
      "convTranspose2d dilated",
      ([x, w]) => F.convTranspose2d(x!, w!, null, { dilation: [2, 1], outputPadding: [1, 0] }),
      [{ shape: [1, 2, 2, 3] }, { shape: [2, 3, 2, 2] }],
    );
  });

  it("rejects bad shapes and options", () => {
    expect(() => F.conv1d(tg.ones([1, 2, 3, 4]), tg.ones([1, 2, 3]))).toThrow(
      /conv1d: expected input \[N, C, L\] or \[C, L\]/,
    );
    expect(() =>
      F.conv1d(tg.ones([1, 2, 8]), tg.ones([1, 2, 3]), null, { stride: 2, padding: "same" }),
    ).toThrow(/conv1d: padding "same" needs stride 1/);
    expect(() => F.convTranspose2d(tg.ones([1, 3, 4, 4]), tg.ones([2, 1, 3, 3]))).toThrow(
      /convTranspose2d: input \[1,3,4,4\] and weight \[2,1,3,3\] do not fit groups=1/,
    );
    expect(() =>
      F.convTranspose2d(tg.ones([1, 2, 4, 4]), tg.ones([2, 1, 3, 3]), null, {
        stride: 2,
        outputPadding: 2,
      }),
    ).toThrow(/convTranspose2d: outputPadding \[2,2\] must be smaller than the stride/);
    expect(() =>
      F.convTranspose2d(tg.ones([1, 2, 4, 4]), tg.ones([2, 1, 3, 3]), tg.ones([2])),
    ).toThrow(/convTranspose2d: bias \[2\] does not match 1 output channels/);
  });
});

describe("interpolate", () => {
  // torch: x = det([1,2,3,4], 0.7); y = F.interpolate(x, **kw); (y * det(y.shape, 0.3)).sum().backward()
  const cases: [keyof typeof REF, tg.F.InterpolateOptions][] = [
    ["nearestUp", { size: [5, 7] }], // kw: size=(5,7)
    ["nearestDown", { scaleFactor: 0.6 }], // scale_factor=0.6
    ["bilinear", { size: [5, 7], mode: "bilinear" }], // size=(5,7), mode='bilinear'
    ["bilinearAC", { size: [5, 3], mode: "bilinear", alignCorners: true }],
    ["bilinearSF", { scaleFactor: [1.5, 0.75], mode: "bilinear" }], // scale_factor=(1.5,0.75)
  ];
  for (const [name, opts] of cases) {
    it(`${name}: values and gradient as PyTorch`, () => {
      const ref = REF[name] as { shape: number[]; y: number[]; dx: number[] };
      const x = det([1, 2, 3, 4], 0.7).requiresGrad_();
      const y = F.interpolate(x, opts);
      expect(y.shape).toEqual(ref.shape);
      y.mul(det(y.shape, 0.3)).sum().backward();
      expectClose(y.dataSync(), ref.y, { atol: 1e-5 });
      expectClose(x.grad!.dataSync(), ref.dx, { atol: 1e-5 });
    });
  }

  it("follows PyTorch's special cases: an unchanged axis is copied, a doubled one reads dst/2", () => {
    // torch: F.interpolate(arange(3.).reshape(1,1,1,3), scale_factor=(1.,2.1)) → [0,0,1,1,2,2]
    // (not ⌊dst/2.1⌋), and scale_factor 1.2 on a size-4 axis copies it.
    const x = tg.arange(3).float().reshape([1, 1, 1, 3]);
    expect(F.interpolate(x, { scaleFactor: [1, 2.1] }).dataSync()).toEqual(
      Float32Array.from([0, 0, 1, 1, 2, 2]),
    );
    const y = tg.arange(4).float().reshape([1, 1, 4, 1]);
    const z = F.interpolate(y, { scaleFactor: [1.2, 1], mode: "bilinear" });
    expect(Array.from(z.dataSync())).toEqual([0, 1, 2, 3]);
  });

  it("gradcheck in float64", () => {
    for (const opts of [
      { size: [4, 7], mode: "bilinear" },
      { size: [2, 5], mode: "bilinear", alignCorners: true },
      { scaleFactor: 1.7, mode: "bilinear" },
      { size: [5, 2] },
    ] as tg.F.InterpolateOptions[]) {
      gradcheck(`interpolate ${JSON.stringify(opts)}`, ([x]) => F.interpolate(x!, opts), [
        { shape: [1, 2, 3, 4] },
      ]);
    }
  });

  it("rejects bad options", () => {
    const x = tg.ones([1, 1, 4, 4]);
    expect(() => F.interpolate(x, {})).toThrow(
      /interpolate: give exactly one of size and scaleFactor/,
    );
    expect(() => F.interpolate(x, { size: 2, scaleFactor: 2 })).toThrow(/exactly one/);
    expect(() => F.interpolate(x, { size: 2, mode: "bicubic" as "nearest" })).toThrow(
      /interpolate: mode "bicubic" is not supported/,
    );
    expect(() => F.interpolate(x, { size: 2, alignCorners: true })).toThrow(
      /interpolate: alignCorners can only be set with mode "bilinear"/,
    );
    expect(() => F.interpolate(tg.ones([1, 4, 4]), { size: 2 })).toThrow(
      /interpolate: expected a floating 4-D input/,
    );
    expect(() => F.interpolate(x, { scaleFactor: 0.1 })).toThrow(/output size \[0,0\]/);
  });
});
