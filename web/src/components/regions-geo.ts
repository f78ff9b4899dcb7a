/**
 * A schematic world map of the demo shop's sales regions (coarse polygons,
 * lon/lat), registered with ECharts for the choropleth. Shoplens ships no
 * country boundaries; regions are what the data carries (`customer.region`).
 */
type Ring = [number, number][];

const REGIONS: Record<string, Ring> = {
  'US-WEST': [
    [-125, 49],
    [-104, 49],
    [-104, 31],
    [-117, 32],
    [-124, 40],
  ],
  'US-EAST': [
    [-104, 49],
    [-67, 47],
    [-75, 35],
    [-80, 25],
    [-97, 26],
    [-104, 31],
  ],
  LATAM: [
    [-117, 32],
    [-97, 26],
    [-80, 10],
    [-35, -7],
    [-40, -22],
    [-68, -55],
    [-75, -45],
    [-81, -5],
    [-92, 15],
  ],
  'EU-WEST': [
    [-10, 36],
    [-9, 44],
    [-5, 48],
    [-6, 58],
    [2, 51],
    [8, 54],
    [8, 44],
    [3, 43],
    [-2, 36],
  ],
  'EU-CENTRAL': [
    [8, 44],
    [8, 55],
    [14, 55],
    [24, 55],
    [24, 45],
    [19, 42],
    [13, 45],
  ],
  'ASIA-PACIFIC': [
    [95, 28],
    [122, 40],
    [142, 45],
    [146, 36],
    [122, 22],
    [110, 2],
    [100, 1],
    [115, -8],
    [113, -22],
    [115, -35],
    [150, -38],
    [153, -25],
    [142, -10],
    [130, -12],
    [120, 5],
    [104, 10],
    [98, 16],
  ],
};

/** Land outlines without data, so the map reads as a map. */
const BACKDROP: Record<string, Ring> = {
  Canada: [
    [-140, 60],
    [-60, 60],
    [-55, 50],
    [-67, 47],
    [-104, 49],
    [-125, 49],
    [-140, 58],
  ],
  Africa: [
    [-17, 21],
    [-5, 36],
    [10, 37],
    [32, 31],
    [43, 12],
    [51, 11],
    [40, -15],
    [20, -35],
    [12, -17],
    [9, 4],
    [-8, 4],
    [-17, 14],
  ],
  Russia: [
    [24, 55],
    [40, 68],
    [100, 75],
    [180, 68],
    [140, 50],
    [120, 50],
    [90, 48],
    [50, 45],
    [30, 45],
  ],
  'Middle East & India': [
    [35, 30],
    [50, 40],
    [70, 38],
    [95, 28],
    [88, 22],
    [78, 8],
    [72, 20],
    [58, 22],
    [43, 12],
    [32, 31],
  ],
};

/**
 * Where each region's label goes (lon, lat; ECharts reads `properties.cp`). The polygon centres
 * put EU-WEST and EU-CENTRAL, and US-WEST and US-EAST, on top of each other; these points keep
 * neighbours apart vertically, and ASIA-PACIFIC's label on its land rather than in the sea.
 */
const LABEL_AT: Record<string, [number, number]> = {
  'US-WEST': [-115, 44],
  'US-EAST': [-88, 34],
  LATAM: [-62, -12],
  'EU-WEST': [-4, 41],
  'EU-CENTRAL': [19, 58],
  'ASIA-PACIFIC': [122, 30],
};

export const REGION_MAP_NAME = 'shoplens-regions';

export function regionsGeoJson(): object {
  const feature = (name: string, ring: Ring) => ({
    type: 'Feature',
    properties: { name, ...(LABEL_AT[name] ? { cp: LABEL_AT[name] } : {}) },
    geometry: { type: 'Polygon', coordinates: [[...ring, ring[0]]] },
  });
  return {
    type: 'FeatureCollection',
    features: [
      ...Object.entries(BACKDROP).map(([n, r]) => feature(n, r)),
      ...Object.entries(REGIONS).map(([n, r]) => feature(n, r)),
    ],
  };
}
