import { LabIcon } from '@jupyterlab/ui-components';

import raiseSvg from '../style/raise.svg';

/** The sidebar's tab: an arrow rising from stacked layers (features over their data). */
export const raiseIcon = new LabIcon({ name: 'raise-featurestore:raise', svgstr: raiseSvg });
