import { globalSetup } from './scratch';

export default globalSetup;
