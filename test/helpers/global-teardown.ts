import { globalTeardown } from './scratch';

export default globalTeardown;
